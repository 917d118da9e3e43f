{{ kit_part("auth") }}
