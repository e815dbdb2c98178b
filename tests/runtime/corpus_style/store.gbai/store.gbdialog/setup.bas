' Admin: where the store's services live, and the key its API calls carry
DESCRIPTION "Configure the store's API address and key"

HEAR host WITH "Address of the store API?"
SET BOT MEMORY "api_host", host
HEAR key WITH "API key?"
SET BOT MEMORY "api_key", key
TALK "The store is configured."
