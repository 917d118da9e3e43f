{% include cookiecutter.__flavour ~ "/data_source.py.jinja" %}
