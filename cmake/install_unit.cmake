# install_unit.cmake - run by `cmake --install` (make install): writes the
# systemd unit from dist/keyhold.service.in with ExecStart under the install
# prefix as given at install time (--prefix), and installs it into
# <prefix>/lib/systemd/system (under DESTDIR when set, as file(INSTALL) does).
# Inputs, set by the install(CODE) line before this script: KH_UNIT_IN (the
# template) and KH_UNIT_OUT (where to write the unit in the build tree).
file(READ "${KH_UNIT_IN}" unit)
string(REPLACE "@BINDIR@" "${CMAKE_INSTALL_PREFIX}/bin" unit "${unit}")
file(WRITE "${KH_UNIT_OUT}" "${unit}")
file(INSTALL "${KH_UNIT_OUT}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
