# On removal ($1 = 0, not an upgrade), stop the services that run:
# intercept.service takes its NFQUEUE rule out when it stops.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
  systemctl stop tcpcopy.service intercept.service >/dev/null 2>&1 || :
fi
