' An unknown HEAR type is a compile error naming the type and the valid ones.
' (The quoted condition keeps this never-suspending file out of the resume test.)
IF 'a' = 'a' THEN HEAR colour AS COLOR
' expect error: [syntax_unknown_hear_type.bas:3:34] Error at 'COLOR': unknown HEAR type COLOR (expected one of AUDIO, BOOLEAN, DATE, DOCUMENT, EMAIL, FILE, FLOAT, HOUR, IMAGE, INTEGER, LANGUAGE, MOBILE, MONEY, NAME, NUMBER, PHONE, ZIPCODE, a list of choices or a list variable)
