# shellcheck shell=bash
# ---- layout: apply a layout on a VM whose home is the share ----

azlin_start

azlin_step lock
azlin_lock

azlin_step check-attached
if ! azlin_mounted "$HOME_DIR"; then
  die "$HOME_DIR is not mounted from shared storage on this VM; attach it first (azlin storage attach)"
fi

azlin_step layout
azlin_layout_prepare
azlin_share_lock "$HOME_DIR"
azlin_layout_share "$HOME_DIR"
azlin_share_unlock
azlin_layout_finish
azlin_ok
