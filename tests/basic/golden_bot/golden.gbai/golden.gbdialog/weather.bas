' A tool the golden cases USE: USE TOOL "weather".
PARAM city AS STRING LIKE "Lisbon" DESCRIPTION "The city to forecast"
DESCRIPTION "Weather forecast for a city"
TALK "Sunny in " + city
