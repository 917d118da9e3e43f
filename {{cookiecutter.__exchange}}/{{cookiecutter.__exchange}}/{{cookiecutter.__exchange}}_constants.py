{{ kit_part("constants") }}
