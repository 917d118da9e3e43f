{{ kit_part("data_source") }}
