// Which parties hold the NPIs $npis: {npi, id, kind} each ('clinician', 'staff' or 'referrer'). An
// NPI belongs to one party (graphsvc.checks refuses a second; the party_npi constraint guards races).
UNWIND $npis AS npi
MATCH (p:Party {npi: npi})
RETURN npi, p.id AS id,
       CASE WHEN p:Clinician THEN 'clinician' WHEN p:Staff THEN 'staff' WHEN p:Referrer THEN 'referrer'
            WHEN p:ExternalProvider THEN 'external_provider' ELSE 'merged_referrer' END AS kind
