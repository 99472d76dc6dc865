"""`tuning-bot doctor`: checks an installation and says how to fix what would stop the bot.

Each check is a small function that receives the client it needs and returns `CheckResult`s
(`results`); `report` turns results into lines in the reader's language without any I/O. The
real clients are built, and the checks run in order, by the composition root
(`bot/app/doctor.py`). Modules: `results`, `manifest` (the scopes and mode the app asks Slack
for), `slack`, `database`, `google` (credentials, Vertex AI, Cloud Storage), `budget`, `report`.
"""
