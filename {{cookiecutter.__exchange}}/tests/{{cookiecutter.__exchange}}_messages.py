{{ kit_part("messages") }}
