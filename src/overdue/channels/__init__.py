"""Channels: what turns an allowed action into a message or a piece of work.

``templates`` fills a strategy template's placeholders for one account. Channel adapters (SMS gateway,
dialer, e-mail, letters, agency file drops) and the outbox dispatcher arrive with their issues; today the
end-of-day writes the outbox and the work queues, and nothing sends them.
"""
