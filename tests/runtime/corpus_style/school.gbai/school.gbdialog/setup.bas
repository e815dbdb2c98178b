' Admin: where the school's services live, and the key its API calls carry
DESCRIPTION "Configure the school's API address and key"

HEAR host WITH "Address of the school API?"
SET BOT MEMORY "api_host", host
HEAR key WITH "API key?"
SET BOT MEMORY "api_key", key
TALK "The school is configured."
