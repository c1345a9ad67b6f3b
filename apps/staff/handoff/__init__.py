"""Role handoff (DESIGN §8): an admin moves what one person holds — team places, account manager
roles, scheduled posts, open connect links — to another, in one audited transaction.

`selectors` reads what someone holds (the wizard's preview, a snapshot of it, the report);
`services` makes the move; `views` and `forms` are the admin's wizard.
"""
