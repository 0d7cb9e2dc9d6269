"""The demo: a sample library served by an embedded FTP server and a local folder."""
