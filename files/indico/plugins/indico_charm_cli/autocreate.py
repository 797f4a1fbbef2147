"""`indico autocreate admin <email> [<password>]`: create a local admin without prompts.

Unlike `indico user create --admin` it asks nothing and never checks the email's DNS MX
record (which loops forever without internet). The password may come as the second
argument (the charm's add-admin contract) or, better, on stdin with `--password-stdin`
so it never appears in a process listing.
"""

import sys

import click

from indico.cli.core import cli_group
from indico.core import signals
from indico.core.db import db
from indico.core.plugins import IndicoPlugin
from indico.modules.auth import Identity
from indico.modules.users import User
from indico.modules.users.operations import create_user


class AutocreatePlugin(IndicoPlugin):
    """Autocreate

    Adds `indico autocreate admin` for creating admin users without prompts.
    """

    configurable = False

    def init(self):
        super().init()
        self.connect(signals.plugin.cli, self._extend_indico_cli)

    def _extend_indico_cli(self, sender, **kwargs):
        return cli


@cli_group(name='autocreate')
def cli():
    """Create users without prompts."""


@cli.command()
@click.argument('email')
@click.argument('password', required=False)
@click.option('--password-stdin', is_flag=True, help='Read the password from the first line of stdin.')
def admin(email, password, password_stdin):
    """Create an admin with a local identity (login = EMAIL)."""
    email = email.strip().lower()
    if password_stdin:
        password = sys.stdin.readline().rstrip('\n')
    if not email or '@' not in email:
        click.echo(f'Invalid email "{email}"', err=True)
        sys.exit(1)
    if not password:
        click.echo('The password must not be empty', err=True)
        sys.exit(1)
    if User.query.filter(User.all_emails == email, ~User.is_deleted, ~User.is_pending).has_rows():
        click.echo(f'A user with email "{email}" already exists', err=True)
        sys.exit(1)
    if Identity.query.filter_by(provider='indico', identifier=email).has_rows():
        click.echo(f'A local identity "{email}" already exists', err=True)
        sys.exit(1)
    identity = Identity(provider='indico', identifier=email, password=password)
    user = create_user(email, {'first_name': 'Admin', 'last_name': 'Admin', 'affiliation': ''}, identity)
    user.is_admin = True
    db.session.add(user)
    db.session.commit()
    click.echo(f'Admin with email "{email}" correctly created')
