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
set(CPACK_PACKAGE_CONTACT "tcpcopy maintainers <maintainers@tcpcopy.org>" CACHE STRING "Maintainer of the packages")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://tcpcopy.org")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${CPACK_PACKAGE_HOMEPAGE_URL}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Replicate live TCP traffic to a test server")
# The long description says what the package does; both generators use it
# (the .rpm's %description would otherwise be CPack's generic text).
set(CPACK_PACKAGE_DESCRIPTION
    "tcpcopy tests a server with real traffic: it captures the requests of
live TCP sessions on a production server and replays them, with the real
client addresses, against a test server, while production keeps serving.
intercept runs on the test server: it takes the test server's replies away
through NFQUEUE, so no client ever sees them, and sends their headers back
to tcpcopy, which completes the replayed sessions with them.

This package holds both programs, their systemd units and options files,
and the NFQUEUE rule files with the script that loads them.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_RELOCATABLE OFF)

# Debian: dependencies from the shared libraries, options files and the
# logrotate file as conffiles, maintainer scripts as debhelper writes them:
# nothing enabled or started on install, services stopped on removal and
# restarted on upgrade if they ran.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iptables | nftables")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "ethtool, curl")
# deb-systemd-helper and deb-systemd-invoke for the maintainer scripts;
# dpkg-shlibdeps adds the libraries to this.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# RPM: requirements by package name, not rpmbuild's AutoReq: on Debian,
# AutoReq would name sonames only Debian has (libpcap.so.0.8). The names
# are those of Fedora, RHEL and their rebuilds; packaging/rpm/tcpcopy.spec
# builds a native package with AutoReq there. Options files and the
# logrotate file are %config(noreplace), LICENSE is %license, system
# directories are left to the packages owning them.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_LICENSE "BSD-2-Clause")
set(CPACK_RPM_PACKAGE_URL "https://tcpcopy.org")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_CHANGELOG_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/changelog)
set(CPACK_RPM_PACKAGE_AUTOREQ OFF)
set(CPACK_RPM_PACKAGE_REQUIRES "libpcap, libnetfilter_queue, libmnl, openssl-libs, systemd, logrotate")
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_USER_FILELIST
    "%config(noreplace) /etc/sysconfig/tcpcopy"
    "%config(noreplace) /etc/sysconfig/intercept"
    "%config(noreplace) /etc/logrotate.d/tcpcopy"
    "%license /usr/share/licenses/tcpcopy/LICENSE"
    "%doc /usr/share/doc/tcpcopy/NEWS"
    "%ghost %dir %attr(0755,root,root) /var/log/tcpcopy"
    "%ghost %dir %attr(0755,root,root) /var/log/intercept")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/sysconfig
    /etc/logrotate.d
    /usr/libexec
    /usr/share/doc
    /usr/share/licenses
    /usr/sbin
    /usr/lib/systemd
    /usr/lib/systemd/system
    /usr/share/man
    /usr/share/man/man8)
# The log directories are made by systemd (LogsDirectory=); the package
# owns them as %ghost for the logrotate file. Packager: the maintainers.
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none
%define packager ${CPACK_PACKAGE_CONTACT}")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${PROJECT_SOURCE_DIR}/packaging/rpm/postun.sh)

# Per generator: everything a plain install gets, plus that family's units
# and options files (packaging/CMakeLists.txt).
set(CPACK_TCPCOPY_BUILD_DIR ${PROJECT_BINARY_DIR})
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/packaging/cpack_generator.cmake)

include(CPack)
