// title: Introductions that led to referrals, by who introduced
// question: Of the introductions each member made, how many were followed by a referral to the colleague introduced?
// note: an introduction led to a referral when the referrer later (on or after its date) sent a referral addressed
//    or assigned to the introduced member: the practice page's introductions_led.
// param: since date = null -- only introductions dated on or after this day (null: from the start)
// columns: introducer, name, introductions, led, led_share
MATCH (by:Member)-[:MADE]->(i:Introduction)-[:OF]->(m:Member), (i)-[:TO]->(r:Referrer)
WHERE ($since IS NULL OR i.date >= $since) AND NOT i:Voided
WITH by, i, EXISTS {
  MATCH (r)-[:SENT]->(x:Referral)-[:ADDRESSED_TO|ASSIGNED_TO]->(m) WHERE x.date >= i.date AND NOT x:Voided
} AS led
WITH by, count(i) AS introductions, sum(CASE WHEN led THEN 1 ELSE 0 END) AS led
RETURN by.id AS introducer, by.name AS name, introductions, led,
       round(toFloat(led) / introductions, 2) AS led_share
ORDER BY led DESC, introductions DESC, introducer
