' PARAM and DESCRIPTION make the file a tool; the body still runs.
PARAM city AS STRING LIKE "Lisbon" DESCRIPTION "The city to forecast"
PARAM days AS INTEGER LIKE 3 DESCRIPTION "How many days"
DESCRIPTION "Weather forecast for a city"
TALK "Forecast for " + NVL(city, "nowhere") + " over " + NVL(days, 1) + " day(s)"
' expect: Forecast for nowhere over 1 day(s)
