# On a Debian test host: a copy of the installed keepalived package with a higher version
# (VERSION, the first argument), in a local apt repository the host's apt knows about,
# so that the deploy can "upgrade" to it: apt sees a real upgrade and runs the package's
# real maintainer scripts. (Debian 12 and its backports offer one keepalived version.)
set -e
version=$1
mkdir -p /var/local/roll && cd /var/local/roll
apt-get download keepalived >/dev/null 2>&1
orig=$(ls keepalived_*.deb | head -1)
rm -rf x && dpkg-deb -R "$orig" x
sed -i "s/^Version: .*/Version: $version/" x/DEBIAN/control
dpkg-deb -b x keepalived_roll1.deb >/dev/null
rm -rf x "$orig"
{ dpkg-deb -f keepalived_roll1.deb
  echo "Filename: ./keepalived_roll1.deb"
  echo "Size: $(stat -c %s keepalived_roll1.deb)"
  echo "SHA256: $(sha256sum keepalived_roll1.deb | cut -d' ' -f1)"
  echo; } > Packages
echo 'deb [trusted=yes] file:/var/local/roll ./' > /etc/apt/sources.list.d/roll.list
apt-get update -qq -o Acquire::Languages=none >/dev/null 2>&1
