-- What a log-in waiting for its second factor is for (e.g. the page to go back to), so
-- that the second step resumes where the log-in began.
ALTER TABLE mfa_challenges ADD COLUMN continuation TEXT;
