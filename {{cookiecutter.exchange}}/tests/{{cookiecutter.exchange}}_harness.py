{% include cookiecutter.__flavour ~ "/harness.py.jinja" %}
