"""One module per message the bot sends: the status card, the ending, the job list, one job in
detail, help, short replies, the create form (with its reader and metadata codec) and the
"create again" offer; `shared` holds what several of them use. Pure: text in, Block Kit out."""
