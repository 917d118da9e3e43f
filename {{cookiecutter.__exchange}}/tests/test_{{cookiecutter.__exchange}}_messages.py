{{ kit_part("test_messages") }}
