-- 009: the auditors' bundle of a revealed draw (lib/sortition/bundle.audit_bundle_bytes): the complete
-- lottery, every answer per bundle id, for the auditors the members named (organisers download it).
-- draws.bundle holds the public bundle (names nobody) for draws made from now on.
ALTER TABLE draws ADD COLUMN audit_bundle BLOB;
