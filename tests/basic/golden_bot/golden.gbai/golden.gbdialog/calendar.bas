' A tool the golden cases add: ADD TOOL "calendar".
PARAM day AS DATE LIKE "2026-11-25" DESCRIPTION "The day to look at"
DESCRIPTION "What is on the calendar on a day"
TALK "Nothing planned on " + day
