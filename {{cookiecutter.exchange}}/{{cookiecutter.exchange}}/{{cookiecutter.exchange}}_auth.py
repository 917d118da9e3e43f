{% include cookiecutter.__flavour ~ "/auth.py.jinja" %}
