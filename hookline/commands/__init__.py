"""The `hookline` subcommands other than the roles, one module per group; `hookline.cli`
adds them to the root group. `common` holds what they share: the settings options, the
event loop, one-shot store access."""
