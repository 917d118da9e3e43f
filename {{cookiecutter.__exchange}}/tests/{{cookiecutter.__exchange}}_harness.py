{{ kit_part("harness") }}
