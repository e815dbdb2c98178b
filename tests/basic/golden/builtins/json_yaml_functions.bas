' TOJSON FROMJSON TOYAML.
data = {"name": "Ann", "tags": ["a", "b"], "n": 1.5, "ok": TRUE, "none": NULL}
TALK TOJSON(data)
TALK TOJSON([1, "two"])
back = FROMJSON("{""city"": ""Porto"", ""zip"": [1, 2]}")
TALK back.city
TALK back.zip[1]
obj = FROMJSON('{"a": {"b": 7}}')
TALK obj.a.b
TALK TOYAML({"name": "Ann", "tags": ["a", "b"]})
' expect: {"name":"Ann","tags":["a","b"],"n":1.5,"ok":true,"none":null}
' expect: [1,"two"]
' expect: Porto
' expect: 2
' expect: 7
' expect: name: Ann
' expect: tags:
' expect: - a
' expect: - b
' expect: 
