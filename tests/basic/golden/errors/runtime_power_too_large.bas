' An integer power whose result would pass the digit cap (4,300 by default) is refused before
' it is computed, from an estimate of its size: 3 ^ 100000000 would take minutes and gigabytes.
x = 3 ^ 100000000
TALK "never said"
' expect error: [runtime_power_too_large.bas:3:1] Error: number too large: 3 ^ 100000000 would have about 47,712,125 digits (the limit is 4,300) (line 3)
