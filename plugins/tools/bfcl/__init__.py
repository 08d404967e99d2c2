"""BFCL-compatible evaluation of tool calls (``eval-tools``): the Berkeley Function
Calling Leaderboard's question, possible-answer and response files, checked by its AST
rules, with one difference: a call that does not parse is wrong, never abstention."""
