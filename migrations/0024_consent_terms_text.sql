-- Reason: a consent record names the terms version accepted, and a moderator-written version keeps its
-- text in partner_terms, but the built-in default (version 0) is a catalog text in the language shown,
-- which changes with the server's language and with releases. An acceptance now stores the exact text
-- the member was shown, so their export and the record say what they agreed to; acceptances recorded
-- before this migration keep NULL (what they were shown was not kept).
ALTER TABLE consent_log ADD COLUMN terms_text TEXT;
