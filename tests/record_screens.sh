#!/bin/sh
# Re-records the real agents' screens (plain and with colours, -e) in
# tests/fixtures/screens from runs of the real Claude Code and Codex (and
# Aider, where it is installed: see aider() in tests/real_agents.rs)
# against the fake model API. Pass versions to try a new release:
#   SWITCHBOARD_CLAUDE_VERSION=latest SWITCHBOARD_CODEX_VERSION=latest tests/record_screens.sh
set -e
cd "$(dirname "$0")/.."
SWITCHBOARD_RECORD_SCREENS=1 cargo test --test real_agents -- --test-threads=1 --nocapture asks_is_answered turn_that_fails
