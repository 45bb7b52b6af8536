#!/bin/bash
# Post-install script (Imagesmith test fixture): enables services and records the install.
set -euo pipefail
systemctl enable --now chronyd
echo "post-install finished at $(date -u +%FT%TZ)" >> /var/log/post-install.log
