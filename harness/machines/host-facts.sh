#!/bin/sh
# Prints the benchmark-relevant state of the host it runs on as key=value lines,
# one value per line. Read by harness/machines/host-facts.ts, which parses it.
# POSIX sh with busybox tools only (sed, grep): a lab box's base OS may be
# minimal. Every probe tolerates a missing file by printing nothing for its key.
# $1: a root directory to read instead of / (tests point it at a fake tree).
R=${1:-}
S=$R/sys/devices/system/cpu

kv() { printf '%s=%s\n' "$1" "$2"; }
# v := first line of file $1; false when it is missing or unreadable. The
# `|| [ -n ]` keeps a last line that has no newline.
rd() { v=; [ -r "$1" ] || return 1; IFS= read -r v <"$1" 2>/dev/null || [ -n "$v" ]; }
# key=first line of file, only when there is one
kf() { rd "$2" && kv "$1" "$v"; }
# first "field : value" of /proc/cpuinfo; sed quits at the first match
ci() { sed -n "/^$1[[:space:]]*:/{s/^[^:]*:[[:space:]]*//p;q;}" "$R/proc/cpuinfo" 2>/dev/null; }

if [ -r "$R/proc/cpuinfo" ]; then
  x=$(ci 'model name') && [ -n "$x" ] && kv cpu_model "$x"
  x=$(ci microcode) && [ -n "$x" ] && kv microcode "$x"
  kv processors "$(grep -c '^processor' "$R/proc/cpuinfo" 2>/dev/null)"
  x=$(ci flags)
  if [ -n "$x" ]; then
    case " $x " in *' hypervisor '*) kv hypervisor_flag yes ;; *) kv hypervisor_flag no ;; esac
  fi
fi
kf cpus_online "$S/online"

kf scaling_driver "$S/cpu0/cpufreq/scaling_driver"
kf governor "$S/cpu0/cpufreq/scaling_governor"
kf available_governors "$S/cpu0/cpufreq/scaling_available_governors"
kf epp "$S/cpu0/cpufreq/energy_performance_preference"
# every CPU's governor as cpu:governor, so a tuned host can be restored exactly
g=
for f in "$S"/cpu[0-9]*/cpufreq/scaling_governor; do
  rd "$f" || continue
  c=${f#"$S"/cpu}
  g=$g${g:+,}${c%%/*}:$v
done
[ -n "$g" ] && kv governors "$g"

kf intel_pstate "$S/intel_pstate/status"
kf no_turbo "$S/intel_pstate/no_turbo"
kf amd_pstate "$S/amd_pstate/status"
kf boost "$S/cpufreq/boost"
kf policy0_boost "$S/cpufreq/policy0/boost"

kf smt_control "$S/smt/control"
kf smt_active "$S/smt/active"

kf kernel "$R/proc/sys/kernel/osrelease"
kf cmdline "$R/proc/cmdline"
if [ -r "$R/proc/meminfo" ]; then
  while IFS=': ' read -r k n _; do
    case $k in
      MemTotal) kv mem_total_kib "$n" ;;
      HugePages_Total) kv hugepages_total "$n" ;;
      HugePages_Free) kv hugepages_free "$n" ;;
      Hugepagesize) kv hugepage_size_kib "$n" ;;
    esac
  done <"$R/proc/meminfo"
fi
kf thp "$R/sys/kernel/mm/transparent_hugepage/enabled"

# irqbalance by scanning comm rather than pidof: pidof is not on every minimal
# system, and a fake root in the tests has its own /proc
if [ -d "$R/proc" ]; then
  x=no
  for f in "$R"/proc/[0-9]*/comm; do
    rd "$f" && [ "$v" = irqbalance ] && { x=yes; break; }
  done
  kv irqbalance "$x"
fi

kf hypervisor_type "$R/sys/hypervisor/type"
kf dmi_sys_vendor "$R/sys/class/dmi/id/sys_vendor"
kf dmi_product_name "$R/sys/class/dmi/id/product_name"

# vulnerabilities: how many this CPU is affected by (mitigated or not), and
# which are left unmitigated ("Vulnerable...")
n=0 a=0 u=
for f in "$S"/vulnerabilities/*; do
  rd "$f" || continue
  n=$((n + 1))
  case $v in
    'Not affected'*) ;;
    Vulnerable*) a=$((a + 1)) u=$u${u:+,}${f##*/} ;;
    *) a=$((a + 1)) ;;
  esac
done
if [ "$n" -gt 0 ]; then
  kv vulnerabilities_total "$n"
  kv vulnerabilities_affected "$a"
  kv vulnerable "$u"
fi
exit 0
