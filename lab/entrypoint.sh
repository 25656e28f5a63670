#!/bin/sh
# PID 1 of a lab host: gives systemd a cgroup v1 tree of its own (the container has a private cgroup
# namespace), gives the host its own SSH host keys on first boot, then hands over to systemd.
set -eu

# Docker mounts the container's cgroup hierarchies read-only; the engine the product installs inside
# needs them writable, so they are mounted afresh at every start.
{
  umount -l /sys/fs/cgroup 2>/dev/null || true
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  # One mount per hierarchy: controllers sharing a hierarchy id are mounted together.
  awk 'NR > 1 && $2 != 0 { c[$2] = (c[$2] ? c[$2] "," : "") $1 } END { for (h in c) print c[h] }' \
    /proc/cgroups | while read -r controllers; do
    mkdir -p "/sys/fs/cgroup/$controllers"
    mount -t cgroup -o "$controllers" cgroup "/sys/fs/cgroup/$controllers"
  done
  mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
  mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified 2>/dev/null || true
}

if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
  ssh-keygen -A >/dev/null
fi

exec /lib/systemd/systemd
