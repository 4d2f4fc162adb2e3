"""Domain rules by subject: identifiers, phones, masking, areas, dates, patrols, agreement steps,
人民币大写.

Pure functions only (no I/O, no Qt), so the store, the forms and the printers all apply the
same rules. Every rejection is an errors.ValidationError whose Chinese message says what is
wrong and what was expected, because the message is shown to township staff as is.
"""
