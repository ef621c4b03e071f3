#!/usr/bin/perl
# Every ```sql block in README.md and docs/*.md must appear, verbatim, in one
# of sql/*.sql, so that pg_regress runs it and checks its output.  Prints TAP.
use strict;
use warnings;

my $root = shift or die "usage: $0 REPO_ROOT\n";
my %sql;
for my $f (glob("$root/sql/*.sql")) {
    open my $fh, '<', $f or die "$f: $!\n";
    local $/;
    $sql{$f} = <$fh>;
}

my $n = 0;
for my $md ("$root/README.md", glob("$root/docs/*.md")) {
    next unless -f $md;
    open my $fh, '<', $md or die "$md: $!\n";
    my ($in, $block, $start) = (0, '', 0);
    while (my $line = <$fh>) {
        if (!$in && $line =~ /^```sql\s*$/) { ($in, $block, $start) = (1, '', $.); next; }
        if ($in && $line =~ /^```\s*$/) {
            $in = 0;
            $n++;
            my ($name) = $md =~ m{([^/]+/?[^/]+)$};
            my $found = grep { index($_, $block) >= 0 } values %sql;
            printf "%s %d - %s:%d example is run by sql/*.sql\n", $found ? 'ok' : 'not ok', $n, $name, $start;
            next;
        }
        $block .= $line if $in;
    }
}
print "1..$n\n";
