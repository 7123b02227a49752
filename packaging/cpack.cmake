# .deb and .rpm packages from one build: cmake --build BUILD --target package
#
# One package, "tcpcopy", holds both programs. Both hosts of a deployment
# install the same package and enable the unit they need: tcpcopy and
# intercept must speak the same control protocol version, and intercept's
# rule files and man pages are useful on both sides. The programs are small
# and share their libraries, so a split would save nothing.
#
# Installing never enables a service or touches the firewall; removing
# stops the services (intercept's unit then removes its NFQUEUE rule).

set(CPACK_GENERATOR "DEB;RPM" CACHE STRING "Package formats to build")
set(CPACK_PACKAGE_NAME tcpcopy)
set(CPACK_PACKAGE_VENDOR "tcpcopy")
set(CPACK_PACKAGE_CONTACT "tcpcopy maintainers <tcpcopy@localhost>" CACHE STRING "Maintainer of the packages")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "replicate live TCP traffic to a test server")
set(CPACK_PACKAGE_DESCRIPTION
    "tcpcopy captures the requests of live TCP sessions on a production server
and replays them, with the real client addresses, against a test server.
intercept runs on the test server: it takes the test server's replies away
through NFQUEUE, so no client ever sees them, and sends their headers back
to tcpcopy. Both programs, their systemd units and options files, and the
NFQUEUE rule files.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_RELOCATABLE OFF)

# Debian: dependencies from the shared libraries, options files as
# conffiles, maintainer scripts that only reload systemd or stop on removal.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iptables | nftables")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "ethtool, curl")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# RPM: requirements found by rpmbuild (AutoReq), options files as
# %config(noreplace), system directories left to the packages owning them.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_USER_FILELIST
    "%config(noreplace) /etc/sysconfig/tcpcopy"
    "%config(noreplace) /etc/sysconfig/intercept")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/sysconfig
    /usr/sbin
    /usr/lib/systemd
    /usr/lib/systemd/system
    /usr/share/man
    /usr/share/man/man8)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/postun.sh)

# Per generator: everything a plain install gets, plus that family's units
# and options files (packaging/CMakeLists.txt).
set(CPACK_TCPCOPY_BUILD_DIR ${PROJECT_BINARY_DIR})
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/packaging/cpack_generator.cmake)

include(CPack)
