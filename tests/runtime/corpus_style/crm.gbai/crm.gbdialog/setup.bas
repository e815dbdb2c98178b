' Admin: where the CRM's services live, and the key its API calls carry
DESCRIPTION "Configure the CRM's API address and key"

HEAR host WITH "Address of the CRM API?"
SET BOT MEMORY "api_host", host
HEAR key WITH "API key?"
SET BOT MEMORY "api_key", key
TALK "The CRM is configured."
