// The referral graph's constraints and indexes. Idempotent: run by
// `graphsvc db init` and by every command that writes.
CREATE CONSTRAINT practice_id IF NOT EXISTS FOR (n:Practice) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT member_id IF NOT EXISTS FOR (n:Member) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT clinician_id IF NOT EXISTS FOR (n:Clinician) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT staff_id IF NOT EXISTS FOR (n:Staff) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT referrer_id IF NOT EXISTS FOR (n:Referrer) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT client_id IF NOT EXISTS FOR (n:Client) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT external_provider_id IF NOT EXISTS FOR (n:ExternalProvider) REQUIRE n.id IS UNIQUE;
// Parties (clinicians, staff, referrers, outside providers) share one id space: the analysis keys them
// all by id. Nodes stored before the Party label was added get it first; the constraint then holds
// even between an import and a single write racing each other (graphsvc.checks refuses a clash first).
MATCH (n) WHERE (n:Member OR n:Referrer OR n:ExternalProvider) AND NOT n:Party SET n:Party;
CREATE CONSTRAINT party_id IF NOT EXISTS FOR (n:Party) REQUIRE n.id IS UNIQUE;
// An NPI (a clinician's, staff member's or referrer's National Provider Identifier) belongs to one party,
// whatever its label; a party without one has no npi property. Like party_id, the constraint guards races
// (an import and a single write at once): graphsvc.checks refuses a second holder first, naming the first.
CREATE CONSTRAINT party_npi IF NOT EXISTS FOR (n:Party) REQUIRE n.npi IS UNIQUE;
CREATE CONSTRAINT referral_id IF NOT EXISTS FOR (n:Referral) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT introduction_id IF NOT EXISTS FOR (n:Introduction) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT contact_id IF NOT EXISTS FOR (n:Contact) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT referral_out_id IF NOT EXISTS FOR (n:ReferralOut) REQUIRE n.id IS UNIQUE;
// Worklist tasks: one per worklist row someone acted on, keyed by the row's stable id.
CREATE CONSTRAINT task_id IF NOT EXISTS FOR (n:Task) REQUIRE n.id IS UNIQUE;
CREATE INDEX task_status IF NOT EXISTS FOR (n:Task) ON (n.status);
// The words managers added to the vocabularies (graphsvc.vocabularies): each once per vocabulary.
CREATE CONSTRAINT term_value IF NOT EXISTS FOR (n:Term) REQUIRE (n.vocabulary, n.value) IS UNIQUE;
// Date ranges: "referrals this year", "contacts since", analysts' windows.
CREATE INDEX referral_date IF NOT EXISTS FOR (n:Referral) ON (n.date);
CREATE INDEX introduction_date IF NOT EXISTS FOR (n:Introduction) ON (n.date);
CREATE INDEX contact_date IF NOT EXISTS FOR (n:Contact) ON (n.date);
CREATE INDEX referrer_kind IF NOT EXISTS FOR (n:Referrer) ON (n.kind);
// The change feed: referrers changed after a version (changes_since).
CREATE INDEX referrer_changed_in IF NOT EXISTS FOR (n:Referrer) ON (n.changed_in);
CREATE INDEX point_person_until IF NOT EXISTS FOR ()-[t:POINT_PERSON]-() ON (t.until);
// The single Practice node every member belongs to.
// `instance` tells this database from another one with the same version number
// (analysis snapshots are kept per instance).
MERGE (p:Practice {id: 'practice'}) ON CREATE SET p.name = 'The Practice'
SET p.instance = coalesce(p.instance, randomUUID());
