-- 007: survey anonymity that holds with the database file in hand, paper cards, and the
-- organisers' check of members' questions (lib/evaluation/survey.py, docs/EVALUATION.md).
--
-- "Who has answered" / "who has endorsed" now hold HMAC-SHA256 marks made with a server key that
-- is kept OUTSIDE the database (a file beside it, or KLEROTERION_SURVEY_KEY), so the tokens in
-- eval_access_codes no longer let anyone recompute them. mark_check is HMAC(key, 'check|…') of the
-- key that made a list's marks: a missing or changed key is noticed instead of letting members
-- answer twice. NULL = a list made before 007 (plain SHA-256 of the token): the app converts it the
-- first time it opens the database with its key.
ALTER TABLE eval_answered ADD COLUMN mark_check VARCHAR;
ALTER TABLE eval_round_voters ADD COLUMN mark_check VARCHAR;

-- Paper: how many paper cards were handed out for a survey (typed-in paper forms are capped at
-- that number), and who typed each paper form in (NULL for answers given online).
ALTER TABLE eval_waves ADD COLUMN paper_cards INTEGER DEFAULT 0;
ALTER TABLE eval_responses ADD COLUMN typed_by VARCHAR;

-- Members' questions are checked by an organiser before they can go into an endorsement round.
-- check_state: 'waiting' | 'accepted' | 'declined' (members' questions only; NULL for core items).
ALTER TABLE eval_questions ADD COLUMN check_state VARCHAR;
ALTER TABLE eval_questions ADD COLUMN check_reason VARCHAR;   -- why it was not accepted (shown to members)
ALTER TABLE eval_questions ADD COLUMN checked_by VARCHAR;
-- Questions members have already endorsed count as checked; the others wait for a check.
UPDATE eval_questions SET check_state = CASE WHEN status IN ('in_round', 'adopted', 'not_adopted')
                                             THEN 'accepted' ELSE 'waiting' END
WHERE kind = 'member';
