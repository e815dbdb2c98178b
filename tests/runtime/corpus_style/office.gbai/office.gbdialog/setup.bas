' Admin: where the office's services live, and the key its API calls carry
DESCRIPTION "Configure the office's API address and key"

HEAR host WITH "Address of the office API?"
SET BOT MEMORY "api_host", host
HEAR key WITH "API key?"
SET BOT MEMORY "api_key", key
TALK "The office is configured."
