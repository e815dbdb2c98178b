' Admin: where the helpdesk's services live, and the key its API calls carry
DESCRIPTION "Configure the helpdesk's API address and key"

HEAR host WITH "Address of the helpdesk API?"
SET BOT MEMORY "api_host", host
HEAR key WITH "API key?"
SET BOT MEMORY "api_key", key
TALK "The helpdesk is configured."
