"""The command-line client: `hookline submit|tasks|events|deliveries|stats` over the HTTP API.

It never opens the database: everything goes through the v1 API at `--url`
with the key `--key`, as any other client would.

    http      the small async API client (one aiohttp session, bounded retries)
    lines     pure: parsing a JSONL line into a task body, derived unique_ids, the summary
    submit    sending a file of tasks concurrently, progress, Ctrl-C
    render    tables on a terminal, JSON lines with --json
    stats     pure: what `hookline stats` asks and how it adds up
    runner    what every command shares: --url/--key/--json, the loop, one-line errors
    tasks     `hookline tasks ls|show|cancel|redo|retry`
    feeds     `hookline events tail`, `hookline deliveries ls|resend|replay`
    commands  `hookline submit`, `hookline stats`, and COMMANDS for hookline.cli
"""
