// Every word the stored records use, per vocabulary (graphsvc.vocabularies.FIELDS): what a database made
// before vocabularies were kept adopts as its lists (graphsvc.store.terms.adopt_values_in_use).
CALL () {
  MATCH (c:Clinician) UNWIND coalesce(c.specialties, []) AS v RETURN 'needs' AS vocabulary, v AS value
  UNION
  MATCH (c:Client) UNWIND coalesce(c.needs, []) AS v RETURN 'needs' AS vocabulary, v AS value
  UNION
  MATCH (c:Clinician) UNWIND coalesce(c.populations, []) AS v RETURN 'populations' AS vocabulary, v AS value
  UNION
  MATCH (c:Client) WHERE c.population IS NOT NULL RETURN 'populations' AS vocabulary, c.population AS value
  UNION
  MATCH (c:Clinician) UNWIND coalesce(c.insurances, []) AS v RETURN 'insurances' AS vocabulary, v AS value
  UNION
  MATCH (c:Client) WHERE c.insurance IS NOT NULL RETURN 'insurances' AS vocabulary, c.insurance AS value
  UNION
  MATCH (c:Clinician) UNWIND coalesce(c.schedule, []) AS v RETURN 'schedules' AS vocabulary, v AS value
  UNION
  MATCH (c:Client) WHERE c.schedule IS NOT NULL RETURN 'schedules' AS vocabulary, c.schedule AS value
  UNION
  MATCH (r:Referrer) WHERE r.kind IS NOT NULL RETURN 'referrer_kinds' AS vocabulary, r.kind AS value
  UNION
  MATCH (k:Contact) WHERE k.kind IS NOT NULL RETURN 'contact_kinds' AS vocabulary, k.kind AS value
  UNION
  MATCH (e:ExternalProvider) UNWIND coalesce(e.niches, []) AS v RETURN 'niches' AS vocabulary, v AS value
  UNION
  MATCH (o:ReferralOut) WHERE o.niche IS NOT NULL RETURN 'niches' AS vocabulary, o.niche AS value
}
RETURN vocabulary, value
ORDER BY vocabulary, value
