' Session Export: type "export" to save this conversation in the bot's storage.
GET user_name
history = GET "session.history"
session_id = GET "session.id"
file_name = "conversations/" + session_id + ".txt"
SAVE file_name, history
if user_name
  TALK "Done, " + user_name + ": your conversation is saved as " + file_name + "."
else
  TALK "Done: your conversation is saved as " + file_name + "."
end
