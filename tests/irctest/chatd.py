"""irctest controller for chatd (scripts/irctest.sh puts this directory on
PYTHONPATH and names the binary in $CHATD)."""
import os
import shutil
from typing import Optional, Set, Type

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController


class ChatdController(BaseServerController, DirectoryBasedController):
    software_name = "chatd"
    supported_sasl_mechanisms: Set[str] = set()
    supports_sts = False

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
    ) -> None:
        assert self.proc is None
        if ssl:
            raise NotImplementedByController("TLS")
        if run_services:
            raise NotImplementedByController("services")
        self.port = port
        self.hostname = hostname
        self.create_config()
        chatd = os.environ.get("CHATD") or shutil.which("chatd") or "chatd"
        # The suite floods and reconnects faster than a public server
        # allows: the per-address and per-line limits are off here.
        bind = [] if hostname == "localhost" else ["--bind", hostname]
        # A password file keeps it out of the process list, as chatd(8)
        # advises; the directory is the controller's own scratch one.
        auth = []
        if password is not None:
            assert self.directory is not None
            path = os.path.join(self.directory, "password")
            with open(path, "w") as f:
                f.write(password + "\n")
            auth = ["--password-file", path]
        self.proc = self.execute(
            [
                chatd,
                *bind,
                "--port", "0",
                "--irc-port", str(port),
                "--server-name", "My.Little.Server",
                "--rate", "0",
                "--max-per-ip", "0",
                "--connect-rate", "0",
                "--log-level", "warn",
                *auth,
            ]
        )


def get_irctest_controller_class() -> Type[ChatdController]:
    return ChatdController
