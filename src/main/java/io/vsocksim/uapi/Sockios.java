package io.vsocksim.uapi;

import io.vsocksim.Linux;

/** The socket ioctl numbers ({@code asm-generic/sockios.h}, {@code linux/sockios.h}, {@code linux/wireless.h}). */
@Linux(file = "include/uapi/linux/sockios.h", fn = "SIOCGSKNS")
public final class Sockios {
    public static final int FIOSETOWN = 0x8901;
    public static final int SIOCSPGRP = 0x8902;
    public static final int FIOGETOWN = 0x8903;
    public static final int SIOCGPGRP = 0x8904;
    public static final int SIOCATMARK = 0x8905;
    public static final int SIOCGSTAMP_OLD = 0x8906;
    public static final int SIOCGSTAMPNS_OLD = 0x8907;
    /** {@code _IOR(0x89, 0x06, long long[2])}. */
    public static final int SIOCGSTAMP_NEW = 0x80108906;
    /** {@code _IOR(0x89, 0x07, long long[2])}. */
    public static final int SIOCGSTAMPNS_NEW = 0x80108907;
    public static final int SIOCGIFNAME = 0x8910;
    public static final int SIOCGIFCONF = 0x8912;
    public static final int SIOCGIFFLAGS = 0x8913;
    public static final int SIOCGIFBR = 0x8940;
    public static final int SIOCSIFBR = 0x8941;
    public static final int SIOCGSKNS = 0x894C;
    public static final int SIOCGIFVLAN = 0x8982;
    public static final int SIOCSIFVLAN = 0x8983;
    public static final int SIOCBRADDBR = 0x89a0;
    public static final int SIOCBRDELBR = 0x89a1;
    public static final int SIOCBRADDIF = 0x89a2;
    public static final int SIOCBRDELIF = 0x89a3;
    public static final int SIOCDEVPRIVATE = 0x89F0;
    public static final int SIOCIWFIRST = 0x8B00;
    public static final int SIOCIWLAST = 0x8BFF;
    /** {@code SOCK_IOC_TYPE}: the ioctl type byte of socket commands. */
    public static final int SOCK_IOC_TYPE = 0x89;
    /** {@code sizeof(struct ifreq)} on x86-64. */
    public static final int IFREQ_SIZE = 40;
    /** {@code sizeof(struct ifconf)} on x86-64. */
    public static final int IFCONF_SIZE = 16;
    /** {@code sizeof(struct iwreq)} on x86-64. */
    public static final int IWREQ_SIZE = 32;

    private Sockios() {
    }
}
