"""The Telegram side of the loyalty bot: handlers, wiring and test doubles."""
