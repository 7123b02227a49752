# As %systemd_postun_with_restart: systemd rereads the units, and an
# upgrade ($1 >= 1) restarts the services that were running.
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then
    systemctl try-restart tcpcopy.service intercept.service >/dev/null 2>&1 || :
  fi
fi
