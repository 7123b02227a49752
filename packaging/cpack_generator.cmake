# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE).
if(CPACK_GENERATOR STREQUAL "DEB")
  set(family debian)
elseif(CPACK_GENERATOR STREQUAL "RPM")
  set(family redhat)
else()
  message(FATAL_ERROR "tcpcopy packages: no units for generator ${CPACK_GENERATOR} (DEB or RPM)")
endif()
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CPACK_TCPCOPY_BUILD_DIR};tcpcopy;ALL;/"
    "${CPACK_TCPCOPY_BUILD_DIR};tcpcopy;${family};/")
