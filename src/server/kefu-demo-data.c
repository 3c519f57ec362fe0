/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "KefuDemoData"

#include "config.h"

#include "kefu-demo-data.h"
#include "kefu-time.h"

#include <math.h>
#include <string.h>

/*
 * How the history is made: each day is simulated as a small contact centre
 * would live it.  Calls arrive on a daily curve (peaks mid-morning and
 * mid-afternoon, Asia/Shanghai time, quieter weekends); agents log in
 * around 09:00, take a staggered lunch and log out around 18:00; each call
 * goes to the longest-idle agent with the queue's skill, and a caller whose
 * patience runs out first abandons.  Waits, service level and occupancy
 * therefore come out of the load, as they would in life, rather than being
 * drawn at random.  The centre gets as many agents as its call volume
 * needs; the first three are the demo logins.
 */

#define N_QUEUES 4
#define DAY_MS (G_GINT64_CONSTANT (86400000))
#define HOUR_MS (G_GINT64_CONSTANT (3600000))
#define MINUTE_MS (G_GINT64_CONSTANT (60000))
/* China has no daylight saving time: local time is always UTC+8. */
#define SHANGHAI_OFFSET_MS (8 * HOUR_MS)
/* Events go to the store in batches this big: one transaction each. */
#define EVENT_BATCH 1000
/* Smaller runs are over too fast for progress lines to help. */
#define PROGRESS_MIN_ITEMS 20000
#define WEEKEND_FACTOR 0.35
#define ANSWER_SHARE_FOR_SIZING 0.92
#define CASE_SHARE 0.30
#define CASE_NOTE_SHARE 0.35
#define KNOWN_CALLER_SHARE 0.80
/* Each call record is one store transaction (~0.1 ms on SQLite): a big
 * history keeps them for its most recent days only, about this many.
 * Reports do not need them (they fold the events), the customer's history
 * and case links do, and those look at recent calls. */
#define MAX_CALL_RECORDS 100000
/* Agents' states (logged in, talking, wrap-up, lunch...) are written for
 * the most recent days, as many as fit in about MAX_AGENT_STATE_EVENTS:
 * the whole history of the default demo, a week or so of a big benchmark
 * centre (whose event count is the benchmark's to choose).  Days without
 * them have no agent time, so occupancy (a ratio) is taken over the days
 * that have it rather than read as zero. */
#define AGENT_STATE_DAYS 366
#define MAX_AGENT_STATE_EVENTS 400000

const char * const kefu_demo_logins[][3] = {
  { "agent1", "agent-demo", "agent" },
  { "agent2", "agent-demo", "agent" },
  { "agent3", "agent-demo", "agent" },
  { "super", "super-demo", "supervisor" },
  { "lead", "lead-demo", "teamlead" },
  { "admin", "admin-demo", "admin" },
  { "switch", "switch-demo", "service" },
  { NULL, NULL, NULL },
};

/* Display names, extensions and skills of the demo logins, in the order of
 * kefu_demo_logins. */
static const struct {
  const char *name;
  const char *extension;
  guint8      skills[N_QUEUES];   /* sales, support, billing, vip; 0 = none */
} demo_users[] = {
  { "李娜", "1001", { 90, 60, 0, 50 } },
  { "Emma Wilson", "1002", { 0, 90, 70, 0 } },
  { "王伟", "1003", { 60, 0, 90, 80 } },
  { "张敏", NULL, { 0 } },
  { "陈静", NULL, { 0 } },
  { "Administrator", NULL, { 0 } },
  { "kefu-switch", NULL, { 0 } },
};

G_STATIC_ASSERT (G_N_ELEMENTS (demo_users) + 1 == G_N_ELEMENTS (kefu_demo_logins));

#define N_DEMO_AGENTS 3

enum { QUEUE_SALES, QUEUE_SUPPORT, QUEUE_BILLING, QUEUE_VIP };

static const struct {
  const char *name;
  const char *description;
  const char *strategy;
  double      wrapup_s;
  double      max_wait_s;
  gint64      priority;
  double      talk_median_s;
  double      patience_mean_s;
  const char *ivr_path;
} demo_queues[N_QUEUES] = {
  { "sales", "Sales: orders, quotes and new contracts (销售咨询)", "longest-idle",
    30, 600, 5, 200, 100, "main>1" },
  { "support", "Technical support and deliveries (技术支持与物流)", "skills-based",
    45, 900, 5, 260, 110, "main>2" },
  { "billing", "Invoices, payments and refunds (账单与付款)", "round-robin",
    30, 600, 5, 170, 100, "main>3" },
  { "vip", "Direct line for VIP customers (贵宾专线)", "ring-all",
    60, 300, 10, 320, 150, "main>0" },
};

/* How the calls of customers other than VIPs spread over sales, support
 * and billing. */
static const double queue_shares[] = { 30, 45, 25 };

static const char * const tiers[] = { "vip", "gold", "normal", "new" };
static const double tier_weights[] = { 3, 15, 67, 15 };
enum { TIER_VIP };

/* --- what names and numbers are made of ----------------------------------------- */

typedef struct {
  const char *hanzi;
  const char *pinyin;
} Syllable;

/* Surnames roughly by how common they are: earlier ones are picked more. */
static const Syllable surnames[] = {
  { "王", "wang" }, { "李", "li" }, { "张", "zhang" }, { "刘", "liu" }, { "陈", "chen" },
  { "杨", "yang" }, { "黄", "huang" }, { "赵", "zhao" }, { "吴", "wu" }, { "周", "zhou" },
  { "徐", "xu" }, { "孙", "sun" }, { "马", "ma" }, { "朱", "zhu" }, { "胡", "hu" },
  { "郭", "guo" }, { "何", "he" }, { "高", "gao" }, { "林", "lin" }, { "罗", "luo" },
  { "郑", "zheng" }, { "梁", "liang" }, { "谢", "xie" }, { "宋", "song" }, { "唐", "tang" },
  { "许", "xu" }, { "韩", "han" }, { "冯", "feng" }, { "邓", "deng" }, { "曹", "cao" },
  { "彭", "peng" }, { "曾", "zeng" }, { "肖", "xiao" }, { "田", "tian" }, { "董", "dong" },
  { "袁", "yuan" }, { "潘", "pan" }, { "于", "yu" }, { "蒋", "jiang" }, { "蔡", "cai" },
  { "余", "yu" }, { "杜", "du" }, { "叶", "ye" }, { "程", "cheng" }, { "苏", "su" },
  { "魏", "wei" }, { "吕", "lv" }, { "丁", "ding" }, { "任", "ren" }, { "沈", "shen" },
  { "姚", "yao" }, { "卢", "lu" }, { "姜", "jiang" }, { "崔", "cui" }, { "钟", "zhong" },
  { "谭", "tan" }, { "陆", "lu" }, { "汪", "wang" }, { "范", "fan" }, { "金", "jin" },
  { "石", "shi" }, { "廖", "liao" }, { "贾", "jia" }, { "夏", "xia" }, { "韦", "wei" },
  { "付", "fu" }, { "方", "fang" }, { "白", "bai" }, { "邹", "zou" }, { "孟", "meng" },
  { "熊", "xiong" }, { "秦", "qin" }, { "邱", "qiu" }, { "江", "jiang" }, { "尹", "yin" },
  { "薛", "xue" }, { "闫", "yan" }, { "段", "duan" }, { "雷", "lei" }, { "侯", "hou" },
  { "龙", "long" }, { "史", "shi" }, { "陶", "tao" }, { "黎", "li" }, { "贺", "he" },
  { "顾", "gu" }, { "毛", "mao" }, { "郝", "hao" }, { "龚", "gong" }, { "邵", "shao" },
  { "万", "wan" }, { "钱", "qian" }, { "严", "yan" }, { "武", "wu" }, { "戴", "dai" },
  { "莫", "mo" }, { "孔", "kong" }, { "向", "xiang" }, { "汤", "tang" }, { "欧阳", "ouyang" },
  { "司马", "sima" }, { "上官", "shangguan" }, { "诸葛", "zhuge" },
};

static const Syllable given_syllables[] = {
  { "伟", "wei" }, { "芳", "fang" }, { "娜", "na" }, { "敏", "min" }, { "静", "jing" },
  { "丽", "li" }, { "强", "qiang" }, { "磊", "lei" }, { "军", "jun" }, { "洋", "yang" },
  { "勇", "yong" }, { "艳", "yan" }, { "杰", "jie" }, { "娟", "juan" }, { "涛", "tao" },
  { "明", "ming" }, { "超", "chao" }, { "秀", "xiu" }, { "霞", "xia" }, { "平", "ping" },
  { "刚", "gang" }, { "桂", "gui" }, { "英", "ying" }, { "华", "hua" }, { "建", "jian" },
  { "文", "wen" }, { "玉", "yu" }, { "兰", "lan" }, { "海", "hai" }, { "红", "hong" },
  { "鹏", "peng" }, { "飞", "fei" }, { "辉", "hui" }, { "宇", "yu" }, { "浩", "hao" },
  { "晨", "chen" }, { "欣", "xin" }, { "怡", "yi" }, { "婷", "ting" }, { "雪", "xue" },
  { "梅", "mei" }, { "琳", "lin" }, { "倩", "qian" }, { "颖", "ying" }, { "佳", "jia" },
  { "嘉", "jia" }, { "子", "zi" }, { "涵", "han" }, { "轩", "xuan" }, { "睿", "rui" },
  { "博", "bo" }, { "思", "si" }, { "雨", "yu" }, { "晓", "xiao" }, { "志", "zhi" },
  { "国", "guo" }, { "春", "chun" }, { "德", "de" }, { "俊", "jun" }, { "斌", "bin" },
  { "宁", "ning" }, { "凯", "kai" }, { "琪", "qi" }, { "瑶", "yao" }, { "慧", "hui" },
  { "丹", "dan" }, { "峰", "feng" }, { "云", "yun" }, { "亮", "liang" }, { "成", "cheng" },
  { "林", "lin" }, { "波", "bo" }, { "宏", "hong" }, { "新", "xin" }, { "安", "an" },
  { "泽", "ze" }, { "航", "hang" }, { "昊", "hao" }, { "然", "ran" }, { "萱", "xuan" },
  { "梓", "zi" }, { "诗", "shi" }, { "悦", "yue" }, { "淑", "shu" }, { "振", "zhen" },
  { "立", "li" }, { "秋", "qiu" }, { "彬", "bin" }, { "凤", "feng" }, { "荣", "rong" },
};

static const char * const english_first_names[] = {
  "Emma", "Olivia", "Sophie", "Grace", "Charlotte", "Amelia", "Isla", "Lucy", "Hannah",
  "Emily", "Chloe", "Jessica", "Sarah", "Laura", "Rachel", "Rebecca", "Anna", "Claire",
  "Mary", "Helen", "Kate", "Natalie", "Megan", "Zoe", "James", "William", "Oliver", "Jack",
  "Harry", "George", "Thomas", "Daniel", "Michael", "David", "Matthew", "Andrew", "Peter",
  "Richard", "Robert", "John", "Paul", "Mark", "Simon", "Christopher", "Benjamin", "Samuel",
  "Edward", "Henry", "Alexander", "Ryan", "Kevin", "Brian", "Eric", "Steven", "Tony",
  "Vincent", "Patrick", "Sean",
};

static const char * const english_surnames[] = {
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Wilson", "Taylor", "Davies", "Evans",
  "Thomas", "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green",
  "Hall", "Wood", "Harris", "Martin", "Jackson", "Clarke", "Clark", "Lewis", "Robinson",
  "Young", "Allen", "King", "Scott", "Baker", "Turner", "Hill", "Moore", "Cooper", "Ward",
  "Morris", "Campbell", "Murphy", "Miller", "Anderson", "Mitchell", "Parker", "Bennett",
  "Collins", "Stewart", "Fraser", "Macdonald", "O'Brien", "Reid", "Ross",
  /* Hong Kong and overseas Chinese spellings, with an English given name */
  "Chan", "Wong", "Leung", "Cheung", "Lau", "Ho", "Tang", "Lee", "Ng", "Tan", "Lim",
};

static const char * const company_cities[] = {
  "北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "武汉", "苏州", "天津", "西安", "重庆",
};
static const char * const company_brands[] = {
  "华信", "鼎盛", "宏达", "恒通", "金桥", "远航", "新锐", "天成", "博远", "瑞丰", "嘉禾", "中联",
  "东方", "永安", "利达", "盛世", "汇通", "明德", "正泰", "海川", "云帆", "星辰",
};
static const char * const company_trades[] = {
  "科技", "贸易", "物流", "电子", "信息技术", "食品", "医药", "建材", "文化传媒", "机械",
  "网络", "咨询", "实业", "餐饮管理", "教育科技",
};
static const char * const english_company_brands[] = {
  "Northwind", "Bluewater", "Redwood", "Silverline", "Apex", "Harbour", "Pinnacle", "Summit",
  "Brightstar", "Kestrel", "Evergreen", "Lighthouse", "Oakridge", "Meridian", "Crescent",
  "Greenfield", "Blackstone Bay", "Jade Dragon", "Pearl River", "Victoria Harbour",
};
static const char * const english_company_trades[] = {
  "Trading", "Logistics", "Technologies", "Foods", "Consulting", "Electronics", "Healthcare",
  "Design", "Imports", "Engineering", "Software", "Textiles", "Travel",
};
static const char * const english_company_suffixes[] = {
  "Ltd", "Limited", "Inc.", "Co.", "LLC", "plc", "Group", "Holdings Ltd",
};

static const char * const email_domains[] = {
  "example.com", "example.net", "example.org", "mail.example.com", "mail.example.org",
};

static const char * const customer_tags[] = {
  "wholesale", "retail", "reseller", "newsletter", "invoice-monthly", "key-account",
  "government", "education", "overseas", "paper-invoice", "老客户", "经销商", "大客户",
  "需回访",
};

static const char * const chinese_customer_notes[] = {
  "请在下午两点后联系。",
  "客户偏好邮件沟通，电话请简短。",
  "合同将于年底续签，注意提前联系。",
  "曾投诉配送延误，已补偿优惠券。",
  "需要开具增值税专用发票，抬头见合同。",
  "老客户，介绍过多位新客户。",
};
static const char * const english_customer_notes[] = {
  "Prefers to be called after 2 pm.",
  "Contract renewal due at the end of the year; call in November.",
  "Speaks English only; please do not transfer to the Mandarin line.",
  "Asked not to receive marketing calls.",
  "Orders are placed by the office manager; the owner signs the invoices.",
};

/* Mainland mobile prefixes customers get; 17x is kept for unknown callers. */
static const char * const mobile_prefixes[] = {
  "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
  "150", "151", "152", "153", "155", "156", "157", "158", "159",
  "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
};
/* Beijing, Shanghai, Guangzhou */
static const char * const landline_areas[] = { "10", "21", "20" };
static const char * const us_areas[] = { "212", "415", "646", "617", "312", "206", "213", "650" };

/* --- cases ------------------------------------------------------------------------- */

enum {
  CATEGORY_BILLING, CATEGORY_TECHNICAL, CATEGORY_DELIVERY, CATEGORY_COMPLAINT,
  CATEGORY_SALES, CATEGORY_ACCOUNT, N_CATEGORIES
};

static const struct {
  const char *key;
  const char *chinese_subjects[4];
  const char *english_subjects[4];
  const char *dispositions[4];
} categories[N_CATEGORIES] = {
  { "billing",
    { "账单金额与合同不符", "申请开具增值税专用发票", "重复扣款，申请退款", "询问本月账单明细" },
    { "Invoice amount does not match the contract",
      "Duplicate charge on the card, refund requested",
      "Copy of last month's invoice", "Question about a late payment fee" },
    { "refund issued", "invoice re-sent", "charges explained", "escalated to finance" } },
  { "technical",
    { "设备无法开机", "登录时提示密码错误", "网络连接频繁中断", "软件升级后无法打印" },
    { "Device does not power on", "Cannot log in after a password reset",
      "Connection drops every few minutes", "Printing fails after the latest update" },
    { "resolved on first call", "fixed remotely", "technician booked",
      "escalated to second line" } },
  { "delivery",
    { "订单超过预计时间未送达", "收到的商品有破损", "申请修改收货地址", "快递单号查询不到" },
    { "Order has not arrived after the promised date", "Parcel arrived damaged",
      "Change of delivery address", "Tracking number not found" },
    { "reshipped", "courier chased", "address updated", "refund issued" } },
  { "complaint",
    { "对等待时间过长表示不满", "投诉上门安装人员迟到", "对退款处理进度不满", "投诉客服态度" },
    { "Complaint about long waiting times", "Installer arrived three hours late",
      "Unhappy with the refund progress", "Complaint about a previous call" },
    { "apology and voucher", "escalated to supervisor", "callback scheduled",
      "apology and voucher" } },
  { "sales enquiry",
    { "咨询企业版价格", "希望增加五个用户许可", "询问批量采购折扣", "申请产品试用" },
    { "Pricing for the enterprise plan", "Wants five more user licences",
      "Volume discount for a bulk order", "Asks for a product trial" },
    { "quote sent", "order placed", "follow-up scheduled", "quote sent" } },
  { "account",
    { "变更联系人手机号", "申请注销账户", "修改开票信息", "更换账户负责人" },
    { "Update the contact's mobile number", "Close the account",
      "Change the invoicing details", "New account owner" },
    { "details updated", "request forwarded", "details updated", "identity check pending" } },
};

/* Which categories a queue's calls turn into, by weight. */
static const double queue_category_weights[N_QUEUES][N_CATEGORIES] = {
  /* billing technical delivery complaint sales account */
  { 0, 0, 5, 10, 65, 20 },    /* sales */
  { 0, 60, 25, 15, 0, 0 },    /* support */
  { 75, 0, 0, 10, 0, 15 },    /* billing */
  { 20, 20, 15, 15, 15, 15 }, /* vip */
};

static const char * const priorities[] = { "low", "normal", "high", "urgent" };
static const double priority_weights[] = { 15, 60, 20, 5 };

static const char * const chinese_case_notes[] = {
  "已与客户确认问题，三个工作日内回电。",
  "已升级至二线支持，等待回复。",
  "客户表示满意，可以结单。",
  "已发送邮件说明处理进度。",
};
static const char * const english_case_notes[] = {
  "Confirmed the details with the customer; will call back within three working days.",
  "Escalated to second-line support; waiting for their answer.",
  "Customer is satisfied; closing.",
  "Sent an email with the next steps.",
};

static const char * const fax_subjects[] = {
  "Signed contract", "Purchase order", "Invoice copy", "Delivery note", "Warranty claim form",
  "签字版合同", "采购订单", "发票复印件", "送货单", "营业执照副本",
};

/* Calls arriving per half hour from 09:00 to 18:00 (Asia/Shanghai), relative:
 * a mid-morning and a mid-afternoon peak, a dip over lunch. */
static const double arrival_curve[] = {
  1.0, 1.6, 2.0, 2.1, 1.9, 1.5,   /* 09:00 - 11:59 */
  1.0, 0.9, 1.1, 1.4, 1.7, 1.9,   /* 12:00 - 14:59 */
  1.9, 1.7, 1.4, 1.2, 0.9, 0.6,   /* 15:00 - 17:59 */
};
#define ARRIVALS_FROM_MS (9 * HOUR_MS)

/* --- the generator's state ----------------------------------------------------------- */

typedef struct {
  gint64  id;
  char    phone[20];   /* first number, E.164: what the switch shows as the caller */
  guint8  tier;
  guint8  chinese;
} DemoCustomer;

typedef struct {
  char    *username;
  guint8   skills[N_QUEUES];
  gboolean log_states;    /* created by this run: its days are written as agent.state events */

  /* today's shift, ms since the epoch */
  gboolean on_shift;
  gint64   login_ms;
  gint64   lunch_plan_ms;
  gint64   lunch_ms;      /* when lunch really starts: after the call running at lunch_plan */
  gint64   lunch_len_ms;
  gboolean lunch_fixed;
  gint64   logout_plan_ms;
  gint64   free_ms;       /* end of the wrap-up of its last call */
} DemoAgent;

typedef struct {
  char     id[48];
  guint8   queue;
  gboolean answered;
  int      agent;        /* index into agents, -1 when abandoned */
  int      customer;     /* index into customers, -1 for an unknown caller */
  char     caller[20];
  gint64   offered_ms;
  gint64   answered_ms;
  gint64   ended_ms;     /* abandoned: when the caller hung up */
  gint64   hold_at_ms;   /* when the caller was put on hold, if at all */
  gint64   hold_ms;
  gint64   wrapup_end_ms;
} DemoCall;

/* Call events index the day's calls; the others are agent.state events
 * and index the agents. */
enum {
  EVENT_OFFERED, EVENT_ANSWERED, EVENT_ABANDONED, EVENT_ENDED, EVENT_WRAPUP_ENDED,
  EVENT_AVAILABLE, EVENT_LUNCH, EVENT_LOGGED_OUT, EVENT_TALKING, EVENT_ON_HOLD, EVENT_WRAPUP,
};

typedef struct {
  gint64  ts;
  guint32 seq;      /* ties keep the order they were made in */
  guint32 index;    /* into the day's calls, or agents for agent.state */
  guint8  type;
} DemoEvent;

typedef struct {
  /* borrowed */
  KefuStore                 *store;
  KefuAuth                  *auth;
  const KefuDemoDataOptions *options;
  const char                *country;

  /* owned */
  GRand      *rand;
  GArray     *customers;     /* DemoCustomer */
  GPtrArray  *agents;        /* DemoAgent* */
  GHashTable *hashes;        /* password -> its hash: each one is hashed once */
  JsonArray  *batch;         /* events waiting for the store */

  gint64      now_ms;
  gint64      started_us;
  gint64      base;          /* customers already there: numbers of this run come after theirs */
  guint64     phone_counters[6];

  /* counts, for the summary */
  guint64     n_calls;
  guint64     n_events;
  guint64     n_cdrs;
  guint       record_days;
  guint       state_days;
  guint64     n_cases;
  guint64     n_notes;
  guint       n_faxes;
} DemoData;

enum { COUNTER_MOBILE, COUNTER_LANDLINE, COUNTER_US, COUNTER_UK, COUNTER_HK, COUNTER_ACCOUNT };

static void
demo_agent_free (gpointer data)
{
  DemoAgent *agent = data;

  g_free (agent->username);
  g_free (agent);
}

/* --- randomness ---------------------------------------------------------------------- */

#define PICK(demo, table) ((table)[g_rand_int_range ((demo)->rand, 0, G_N_ELEMENTS (table))])

static gboolean
chance (DemoData *demo,
        double    probability)
{
  return g_rand_double (demo->rand) < probability;
}

static guint
weighted (DemoData     *demo,
          const double *weights,
          guint         n)
{
  double total = 0, x;

  for (guint i = 0; i < n; i++)
    total += weights[i];
  x = g_rand_double (demo->rand) * total;
  for (guint i = 0; i < n; i++)
    {
      if (x < weights[i])
        return i;
      x -= weights[i];
    }
  return n - 1;
}

/* Picks from a table ordered by frequency: the first entries come up far
 * more often, as the common surnames do. */
static guint
skewed_index (DemoData *demo,
              guint     n)
{
  double u = g_rand_double (demo->rand);

  return MIN ((guint) (n * u * u), n - 1);
}

static gint64
uniform_ms (DemoData *demo,
            gint64    from,
            gint64    to)
{
  return from + (gint64) (g_rand_double (demo->rand) * (double) (to - from));
}

static double
exponential (DemoData *demo,
             double    mean)
{
  return -mean * log (1.0 - g_rand_double (demo->rand));
}

/* Talk times are long-tailed: most calls short, a few very long. */
static double
lognormal (DemoData *demo,
           double    median,
           double    sigma)
{
  double u1 = 1.0 - g_rand_double (demo->rand);
  double u2 = g_rand_double (demo->rand);
  double z = sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);

  return median * exp (sigma * z);
}

/* A fixed one-to-one map of [0, modulus) onto itself that looks random:
 * numbers handed out in order come out scattered, and never twice.  A
 * small Feistel network permutes the enclosing power of two (any round
 * function gives a permutation), and values that land past the modulus
 * walk on until they fall inside it.  The keys are fixed, not seeded, so
 * runs with different seeds still never hand out the same number. */
static guint64
scatter (guint64 k,
         guint64 modulus)
{
  static const guint64 keys[] = {
    G_GUINT64_CONSTANT (0x9e3779b97f4a7c15), G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9),
    G_GUINT64_CONSTANT (0x94d049bb133111eb), G_GUINT64_CONSTANT (0x2545f4914f6cdd1d),
  };
  guint bits = 2;
  guint64 mask, x = k % modulus;

  while ((G_GUINT64_CONSTANT (1) << bits) < modulus)
    bits += 2;
  mask = (G_GUINT64_CONSTANT (1) << (bits / 2)) - 1;
  do
    {
      guint64 left = x >> (bits / 2), right = x & mask;

      for (guint round = 0; round < G_N_ELEMENTS (keys); round++)
        {
          guint64 f = (right + 1) * keys[round];
          guint64 next;

          f ^= f >> 31;
          f *= G_GUINT64_CONSTANT (0xd6e8feb86659fd93);
          f ^= f >> 29;
          next = left ^ (f & mask);
          left = right;
          right = next;
        }
      x = (left << (bits / 2)) | right;
    }
  while (x >= modulus);
  return x;
}

/* --- progress ------------------------------------------------------------------------ */

static void
progress (DemoData   *demo,
          const char *what,
          guint64     done,
          guint64     total,
          guint      *next_tenth)
{
  guint tenth;

  if (total < PROGRESS_MIN_ITEMS)
    return;
  tenth = (guint) (done * 10 / total);
  if (tenth < *next_tenth)
    return;
  g_printerr ("demo-data: %s %u0 %% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT "), %.0f s\n",
              what, tenth, done, total,
              (double) (g_get_monotonic_time () - demo->started_us) / G_USEC_PER_SEC);
  *next_tenth = tenth + 1;
}

/* --- writing ------------------------------------------------------------------------- */

/* Validates as the REST API would, then stores.  On a duplicate
 * (demo-data run again) *out_duplicate is set and nothing is an error. */
static JsonObject *
create_record (DemoData              *demo,
               const KefuRecordKind  *kind,
               JsonObject            *object,
               const KefuWrite       *write,
               gboolean              *out_duplicate,
               GError               **error)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(GError) local_error = NULL;
  KefuWriteResult result = { 0 };

  if (out_duplicate)
    *out_duplicate = FALSE;
  doc = kefu_record_validate (kind, node, KEFU_RECORD_CREATE, demo->country, NULL, &local_error);
  if (!doc)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "a generated %s is not valid (a bug in the generator): %s", kind->name,
                   local_error->message);
      return NULL;
    }
  if (!kefu_store_create (demo->store, kind, doc, write, &result, &local_error))
    {
      if (out_duplicate && g_error_matches (local_error, KEFU_STORE_ERROR,
                                            KEFU_STORE_ERROR_DUPLICATE))
        {
          *out_duplicate = TRUE;
          return NULL;
        }
      g_set_error (error, local_error->domain, local_error->code, "cannot store a %s: %s",
                   kind->name, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&result.record);
}

static gboolean
flush_events (DemoData  *demo,
              GError   **error)
{
  g_autoptr(JsonArray) stored = NULL;
  g_autoptr(JsonArray) batch = NULL;
  KefuWrite write = KEFU_WRITE_INIT;

  if (json_array_get_length (demo->batch) == 0)
    return TRUE;
  batch = g_steal_pointer (&demo->batch);
  demo->batch = json_array_new ();
  write.actor = "kefu-server";
  stored = kefu_store_append_events (demo->store, batch, &write, NULL, error);
  if (!stored)
    {
      g_prefix_error (error, "cannot store events: ");
      return FALSE;
    }
  demo->n_events += json_array_get_length (batch);
  return TRUE;
}

/* --- queues and agents ------------------------------------------------------------------- */

static gboolean
create_queues (DemoData  *demo,
               GError   **error)
{
  KefuWrite write = KEFU_WRITE_INIT;

  write.actor = "kefu-server";
  for (guint q = 0; q < N_QUEUES; q++)
    {
      g_autoptr(JsonObject) object = json_object_new ();
      g_autoptr(JsonObject) record = NULL;
      gboolean duplicate;

      json_object_set_string_member (object, "name", demo_queues[q].name);
      json_object_set_string_member (object, "description", demo_queues[q].description);
      json_object_set_string_member (object, "strategy", demo_queues[q].strategy);
      json_object_set_double_member (object, "sl_threshold_s", 20);
      json_object_set_double_member (object, "sl_target", 0.8);
      json_object_set_string_member (object, "sl_denominator", "offered-short");
      json_object_set_double_member (object, "short_abandon_s", 5);
      json_object_set_double_member (object, "max_wait_s", demo_queues[q].max_wait_s);
      json_object_set_double_member (object, "wrapup_s", demo_queues[q].wrapup_s);
      json_object_set_int_member (object, "priority", demo_queues[q].priority);
      record = create_record (demo, &kefu_record_queue, object, &write, &duplicate, error);
      if (!record && !duplicate)
        return FALSE;
    }
  return TRUE;
}

static const char *
password_hash (DemoData    *demo,
               const char  *password,
               GError     **error)
{
  char *hash = g_hash_table_lookup (demo->hashes, password);

  /* argon2 is slow on purpose; agents sharing a demo password share its hash. */
  if (!hash)
    {
      hash = kefu_auth_hash_password (demo->auth, password, error);
      if (!hash)
        return NULL;
      g_hash_table_insert (demo->hashes, g_strdup (password), hash);
    }
  return hash;
}

/* The generator draws one number per statement: the order C evaluates a
 * call's arguments in is unspecified, and a seed must give the same data
 * whatever the compiler. */
static char *
random_person_name (DemoData *demo,
                    gboolean  chinese)
{
  if (chinese)
    {
      const Syllable *surname = &surnames[skewed_index (demo, G_N_ELEMENTS (surnames))];
      const char *first = PICK (demo, given_syllables).hanzi;
      const char *second = chance (demo, 0.35) ? "" : PICK (demo, given_syllables).hanzi;

      return g_strconcat (surname->hanzi, first, second, NULL);
    }
  else
    {
      const char *first = PICK (demo, english_first_names);
      const char *family = PICK (demo, english_surnames);

      return g_strdup_printf ("%s %s", first, family);
    }
}

static const char *
sip_realm (DemoData *demo)
{
  return demo->options->sip_realm ? demo->options->sip_realm : "kefu";
}

/* Creates one user; *out_created is FALSE when the name was taken already.
 * Agents with an extension get the demo SIP password for their phone. */
static gboolean
create_user (DemoData      *demo,
             const char    *username,
             const char    *name,
             const char    *role,
             const char    *extension,
             const guint8  *skills,
             const char    *password,
             gboolean      *out_created,
             GError       **error)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  g_autofree char *ha1 = NULL;
  KefuWrite write = KEFU_WRITE_INIT;
  gboolean duplicate;

  write.actor = "kefu-server";
  write.password_hash = password_hash (demo, password, error);
  if (!write.password_hash)
    return FALSE;
  /* The phone's digest HA1, as PATCH /v1/agents makes it from sip_password. */
  if (extension && skills)
    {
      g_autofree char *a1 = g_strdup_printf ("%s:%s:" KEFU_DEMO_SIP_PASSWORD_PREFIX "%s", extension,
                                             sip_realm (demo), extension);

      ha1 = g_compute_checksum_for_string (G_CHECKSUM_MD5, a1, -1);
      write.sip_ha1 = ha1;
      write.sip_user = extension;
      write.sip_realm = sip_realm (demo);
    }

  json_object_set_string_member (object, "username", username);
  json_object_set_string_member (object, "name", name);
  json_object_set_string_member (object, "role", role);
  if (extension)
    json_object_set_string_member (object, "extension", extension);
  if (skills)
    {
      JsonObject *map = json_object_new ();

      for (guint q = 0; q < N_QUEUES; q++)
        if (skills[q])
          json_object_set_int_member (map, demo_queues[q].name, skills[q]);
      json_object_set_object_member (object, "skills", map);
    }

  record = create_record (demo, &kefu_record_agent, object, &write, &duplicate, error);
  if (!record && !duplicate)
    return FALSE;
  *out_created = record != NULL;
  return TRUE;
}

/* Agents enough for the call volume: the busiest hour near 90 % occupancy
 * (lunches then push the service level down around midday, as in life),
 * the demo logins included. */
static guint
agents_needed (const KefuDemoDataOptions *options)
{
  double weekday_calls = options->calls_per_day * 7.0 / (5.0 + 2.0 * WEEKEND_FACTOR);
  double curve_total = 0, curve_peak = 0;
  double aht_s = 0, peak_erlangs;

  for (guint i = 0; i < G_N_ELEMENTS (arrival_curve); i++)
    {
      curve_total += arrival_curve[i];
      curve_peak = MAX (curve_peak, arrival_curve[i]);
    }
  for (guint q = 0; q < N_QUEUES; q++)
    aht_s += (demo_queues[q].talk_median_s * 1.16 + demo_queues[q].wrapup_s * 0.6 + 16) / N_QUEUES;
  /* peak half hour, as calls per hour */
  peak_erlangs = weekday_calls * ANSWER_SHARE_FOR_SIZING * (2 * curve_peak / curve_total) *
                 aht_s / 3600.0;
  return MAX (N_DEMO_AGENTS, (guint) ceil (peak_erlangs / 0.9));
}

/* Two of sales, support and billing, the first where the floor is
 * shortest of hands for the calls that queue gets, and every third agent
 * on the VIP line as well. */
static void
assign_skills (DemoData  *demo,
               DemoAgent *agent,
               gboolean   vip)
{
  double shortfall[3];
  double total = 0;
  guint primary = 0, secondary;

  for (guint q = 0; q < 3; q++)
    total += queue_shares[q];
  for (guint q = 0; q < 3; q++)
    shortfall[q] = queue_shares[q] / total * (demo->agents->len + 1);
  /* each agent's time is split between the queues it serves */
  for (guint a = 0; a < demo->agents->len; a++)
    {
      DemoAgent *other = g_ptr_array_index (demo->agents, a);
      guint n = 0;

      for (guint q = 0; q < 3; q++)
        n += other->skills[q] ? 1 : 0;
      for (guint q = 0; q < 3 && n; q++)
        if (other->skills[q])
          shortfall[q] -= 1.0 / n;
    }
  for (guint q = 1; q < 3; q++)
    if (shortfall[q] > shortfall[primary])
      primary = q;
  secondary = (primary + 1) % 3;
  if (shortfall[(primary + 2) % 3] > shortfall[secondary])
    secondary = (primary + 2) % 3;

  agent->skills[primary] = (guint8) g_rand_int_range (demo->rand, 70, 101);
  agent->skills[secondary] = (guint8) g_rand_int_range (demo->rand, 30, 70);
  if (vip)
    agent->skills[QUEUE_VIP] = (guint8) g_rand_int_range (demo->rand, 60, 101);
}

static gboolean
create_users (DemoData  *demo,
              GError   **error)
{
  guint n_agents = agents_needed (demo->options);

  for (guint i = 0; kefu_demo_logins[i][0]; i++)
    {
      const char *username = kefu_demo_logins[i][0];
      gboolean is_agent = g_str_equal (kefu_demo_logins[i][2], "agent");
      gboolean created;

      if (!create_user (demo, username, demo_users[i].name, kefu_demo_logins[i][2],
                        demo_users[i].extension, is_agent ? demo_users[i].skills : NULL,
                        kefu_demo_logins[i][1], &created, error))
        return FALSE;
      if (!created)
        g_printerr ("demo-data: user “%s” exists already; left as it was (its password may "
                    "not be %s)\n", username, kefu_demo_logins[i][1]);
      if (is_agent)
        {
          DemoAgent *agent = g_new0 (DemoAgent, 1);

          agent->username = g_strdup (username);
          memcpy (agent->skills, demo_users[i].skills, sizeof agent->skills);
          agent->log_states = created;
          g_ptr_array_add (demo->agents, agent);
        }
    }

  /* The rest of the floor: same password as the demo agents. */
  for (guint i = N_DEMO_AGENTS; i < n_agents; i++)
    {
      DemoAgent *agent = g_new0 (DemoAgent, 1);
      g_autofree char *name = random_person_name (demo, chance (demo, 0.8));
      g_autofree char *extension = g_strdup_printf ("%u", 1001 + i);
      gboolean created;

      agent->username = g_strdup_printf ("agent%u", i + 1);
      assign_skills (demo, agent, i % 3 == 0);
      if (!create_user (demo, agent->username, name, "agent", extension, agent->skills,
                        kefu_demo_logins[0][1], &created, error))
        {
          demo_agent_free (agent);
          return FALSE;
        }
      agent->log_states = created;
      g_ptr_array_add (demo->agents, agent);
    }
  if (n_agents > N_DEMO_AGENTS)
    g_printerr ("demo-data: %u more agents (agent%u to agent%u) share the password %s\n",
                n_agents - N_DEMO_AGENTS, N_DEMO_AGENTS + 1, n_agents, kefu_demo_logins[0][1]);
  return TRUE;
}

/* --- customers ------------------------------------------------------------------------- */

static char *
mobile_number (DemoData *demo)
{
  guint64 x = scatter (demo->phone_counters[COUNTER_MOBILE]++,
                       G_N_ELEMENTS (mobile_prefixes) * G_GUINT64_CONSTANT (100000000));
  const char *prefix = mobile_prefixes[x / 100000000];
  guint64 rest = x % 100000000;
  guint a = (guint) (rest / 10000), b = (guint) (rest % 10000);

  /* People write the same number many ways; the store keeps it in E.164. */
  switch (g_rand_int_range (demo->rand, 0, 4))
    {
    case 0:
      return g_strdup_printf ("%s%04u%04u", prefix, a, b);
    case 1:
      return g_strdup_printf ("%s %04u %04u", prefix, a, b);
    case 2:
      return g_strdup_printf ("%s-%04u-%04u", prefix, a, b);
    default:
      return g_strdup_printf ("+86 %s %04u %04u", prefix, a, b);
    }
}

static char *
landline_number (DemoData *demo)
{
  guint64 x = scatter (demo->phone_counters[COUNTER_LANDLINE]++,
                       G_N_ELEMENTS (landline_areas) * G_GUINT64_CONSTANT (70000000));
  const char *area = landline_areas[x / 70000000];
  /* local numbers of these cities are 8 digits starting 2..8 */
  guint64 local = 20000000 + x % 70000000;
  guint a = (guint) (local / 10000), b = (guint) (local % 10000);

  switch (g_rand_int_range (demo->rand, 0, 3))
    {
    case 0:
      return g_strdup_printf ("0%s-%04u%04u", area, a, b);
    case 1:
      return g_strdup_printf ("(0%s) %04u %04u", area, a, b);
    default:
      return g_strdup_printf ("+86 %s %04u %04u", area, a, b);
    }
}

static char *
foreign_number (DemoData *demo)
{
  switch (g_rand_int_range (demo->rand, 0, 3))
    {
    case 0:
      {
        guint64 x = scatter (demo->phone_counters[COUNTER_US]++,
                             G_N_ELEMENTS (us_areas) * G_GUINT64_CONSTANT (8000000));
        const char *area = us_areas[x / 8000000];
        guint64 rest = x % 8000000;

        return g_strdup_printf ("+1 (%s) %03u-%04u", area, (guint) (200 + rest / 10000),
                                (guint) (rest % 10000));
      }
    case 1:
      {
        guint64 rest = scatter (demo->phone_counters[COUNTER_UK]++, 30000000);
        guint lead = (guint[]) { 3, 7, 8 }[rest / 10000000];

        return g_strdup_printf ("+44 20 %u%03u %04u", lead, (guint) (rest % 10000000 / 10000),
                                (guint) (rest % 10000));
      }
    default:
      {
        guint64 rest = scatter (demo->phone_counters[COUNTER_HK]++, 30000000);
        guint lead = (guint[]) { 5, 6, 9 }[rest / 10000000];

        return g_strdup_printf ("+852 %u%03u %04u", lead, (guint) (rest % 10000000 / 10000),
                                (guint) (rest % 10000));
      }
    }
}

static char *
chinese_company (DemoData *demo)
{
  const char *city = PICK (demo, company_cities);
  const char *brand = PICK (demo, company_brands);
  const char *trade = PICK (demo, company_trades);
  const char *form = chance (demo, 0.8) ? "有限公司" : "股份有限公司";

  return g_strconcat (city, brand, trade, form, NULL);
}

static char *
english_company (DemoData *demo)
{
  const char *brand = PICK (demo, english_company_brands);
  const char *trade = PICK (demo, english_company_trades);
  const char *suffix = PICK (demo, english_company_suffixes);

  return g_strdup_printf ("%s %s %s", brand, trade, suffix);
}

static char *
email_address (DemoData   *demo,
               const char *given,
               const char *family)
{
  const char *domain = PICK (demo, email_domains);

  switch (g_rand_int_range (demo->rand, 0, 3))
    {
    case 0:
      return g_strdup_printf ("%s.%s@%s", given, family, domain);
    case 1:
      return g_strdup_printf ("%s%s%02d@%s", family, given, g_rand_int_range (demo->rand, 1, 100),
                              domain);
    default:
      return g_strdup_printf ("%c%s@%s", given[0], family, domain);
    }
}

/* One customer as a REST client would send it. */
static JsonObject *
customer_object (DemoData *demo,
                 guint8   *out_tier,
                 gboolean *out_chinese)
{
  JsonObject *object = json_object_new ();
  JsonArray *phones = json_array_new ();
  gboolean chinese = chance (demo, 0.7);
  guint tier = weighted (demo, tier_weights, G_N_ELEMENTS (tier_weights));
  g_autofree char *name = NULL;
  g_autofree char *given_ascii = NULL;
  g_autofree char *family_ascii = NULL;

  if (chinese)
    {
      const Syllable *surname = &surnames[skewed_index (demo, G_N_ELEMENTS (surnames))];
      const Syllable *first = &PICK (demo, given_syllables);
      const Syllable *second = chance (demo, 0.65) ? &PICK (demo, given_syllables) : NULL;

      name = g_strconcat (surname->hanzi, first->hanzi, second ? second->hanzi : "", NULL);
      family_ascii = g_strdup (surname->pinyin);
      given_ascii = g_strconcat (first->pinyin, second ? second->pinyin : "", NULL);
    }
  else
    {
      const char *first = PICK (demo, english_first_names);
      const char *family = PICK (demo, english_surnames);
      GString *plain = g_string_new (NULL);

      name = g_strdup_printf ("%s %s", first, family);
      given_ascii = g_ascii_strdown (first, -1);
      for (const char *p = family; *p; p++)
        if (g_ascii_isalpha (*p))
          g_string_append_c (plain, g_ascii_tolower (*p));
      family_ascii = g_string_free (plain, FALSE);
    }
  json_object_set_string_member (object, "name", name);

  if (chance (demo, 0.7))
    {
      g_autofree char *company = (chinese ? chance (demo, 0.85) : chance (demo, 0.15))
                                 ? chinese_company (demo) : english_company (demo);

      json_object_set_string_member (object, "company", company);
    }
  json_object_set_string_member (object, "tier", tiers[tier]);
  /* the demo logins own the customers, so agent1 sees "my customers" */
  json_object_set_string_member (object, "owner",
                                 kefu_demo_logins[g_rand_int_range (demo->rand, 0,
                                                                    N_DEMO_AGENTS)][0]);

  /* The first number is the one they call from. */
  {
    g_autofree char *first = chinese || chance (demo, 0.5) ? mobile_number (demo)
                                                           : foreign_number (demo);

    json_array_add_string_element (phones, first);
  }
  if (chance (demo, chinese ? 0.4 : 0.25))
    {
      g_autofree char *second = landline_number (demo);

      json_array_add_string_element (phones, second);
    }
  if (chance (demo, 0.1))
    {
      g_autofree char *third = chinese ? mobile_number (demo) : foreign_number (demo);

      json_array_add_string_element (phones, third);
    }
  json_object_set_array_member (object, "phones", phones);

  if (chance (demo, 0.8))
    {
      JsonArray *emails = json_array_new ();
      g_autofree char *email = email_address (demo, given_ascii, family_ascii);

      json_array_add_string_element (emails, email);
      if (chance (demo, 0.12))
        {
          g_autofree char *other = email_address (demo, given_ascii, family_ascii);

          if (!g_str_equal (other, email))
            json_array_add_string_element (emails, other);
        }
      json_object_set_array_member (object, "emails", emails);
    }

  {
    guint n_tags = weighted (demo, (const double[]) { 45, 35, 15, 5 }, 4);

    if (n_tags)
      {
        JsonArray *tags = json_array_new ();
        guint first = g_rand_int_range (demo->rand, 0, G_N_ELEMENTS (customer_tags));

        /* n_tags distinct tags: a run through the table from a random start */
        for (guint t = 0; t < n_tags; t++)
          json_array_add_string_element (tags, customer_tags[(first + t * 5) %
                                                             G_N_ELEMENTS (customer_tags)]);
        json_object_set_array_member (object, "tags", tags);
      }
  }

  if (chance (demo, 0.08))
    json_object_set_string_member (object, "notes", chinese ? PICK (demo, chinese_customer_notes)
                                                            : PICK (demo, english_customer_notes));

  {
    guint64 k = demo->phone_counters[COUNTER_ACCOUNT]++;
    g_autofree char *account = g_strdup_printf ("%08" G_GUINT64_FORMAT,
                                                10000000 + scatter (k, 90000000));

    json_object_set_string_member (object, "account_number", account);
  }

  *out_tier = (guint8) tier;
  *out_chinese = chinese;
  return object;
}

static gboolean
create_customers (DemoData  *demo,
                  GError   **error)
{
  guint n = demo->options->n_customers;
  guint next_tenth = 1;
  KefuWrite write = KEFU_WRITE_INIT;

  write.actor = "kefu-server";
  write.status = 201;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(JsonObject) object = NULL;
      g_autoptr(JsonObject) record = NULL;
      DemoCustomer customer = { 0 };
      gboolean chinese;
      JsonArray *phones;

      object = customer_object (demo, &customer.tier, &chinese);
      customer.chinese = (guint8) chinese;
      record = create_record (demo, &kefu_record_customer, object, &write, NULL, error);
      if (!record)
        return FALSE;
      customer.id = json_object_get_int_member (record, "id");
      phones = json_object_get_array_member (record, "phones");
      g_strlcpy (customer.phone, json_array_get_string_element (phones, 0), sizeof customer.phone);
      g_array_append_val (demo->customers, customer);
      progress (demo, "customers", i + 1, n, &next_tenth);
    }
  return TRUE;
}

/* --- one day of calls -------------------------------------------------------------------- */

/* The earliest time from t on when the agent could take a new call, or
 * G_MAXINT64 when not again today.  Fixes when lunch really starts: once no
 * new call can start before the planned lunch, the last morning call is
 * known, and lunch starts when its wrap-up ends. */
static gint64
agent_next_start (DemoAgent *agent,
                  gint64     t)
{
  gint64 s;

  if (!agent->on_shift)
    return G_MAXINT64;
  s = MAX (t, agent->free_ms);
  if (s < agent->lunch_plan_ms)
    return s;
  if (!agent->lunch_fixed)
    {
      agent->lunch_ms = MAX (agent->lunch_plan_ms, agent->free_ms);
      agent->lunch_fixed = TRUE;
    }
  s = MAX (s, agent->lunch_ms + agent->lunch_len_ms);
  return s < agent->logout_plan_ms ? s : G_MAXINT64;
}

static void
plan_shifts (DemoData *demo,
             gint64    day_ms,
             gint64    epoch_day,
             gboolean  weekend)
{
  for (guint i = 0; i < demo->agents->len; i++)
    {
      DemoAgent *agent = g_ptr_array_index (demo->agents, i);

      /* Half the floor works at weekends, taking turns. */
      agent->on_shift = !weekend || (gint64) (i % 2) == epoch_day % 2;
      agent->login_ms = day_ms + 8 * HOUR_MS + 45 * MINUTE_MS +
                        uniform_ms (demo, 0, 20 * MINUTE_MS);
      agent->lunch_plan_ms = day_ms + 11 * HOUR_MS + 30 * MINUTE_MS + (i % 4) * 30 * MINUTE_MS +
                             uniform_ms (demo, 0, 5 * MINUTE_MS);
      agent->lunch_len_ms = 45 * MINUTE_MS + uniform_ms (demo, 0, 15 * MINUTE_MS);
      agent->lunch_fixed = FALSE;
      agent->logout_plan_ms = day_ms + 18 * HOUR_MS + uniform_ms (demo, 0, 20 * MINUTE_MS);
      agent->free_ms = agent->login_ms;
    }
}

static int
compare_ms (gconstpointer a,
            gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static int
compare_events (gconstpointer a,
                gconstpointer b)
{
  const DemoEvent *x = a, *y = b;

  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
add_event (GArray  *events,
           gint64   ts,
           guint8   type,
           guint32  index)
{
  DemoEvent event = { ts, events->len, index, type };

  g_array_append_val (events, event);
}

/* Calls of one day, simulated in the order they arrive. */
static void
simulate_calls (DemoData *demo,
                gint64    day_ms,
                gboolean  weekend,
                GArray   *calls)
{
  double weekday_calls = demo->options->calls_per_day * 7.0 / (5.0 + 2.0 * WEEKEND_FACTOR);
  double expected = weekday_calls * (weekend ? WEEKEND_FACTOR : 1.0) *
                    (0.9 + 0.2 * g_rand_double (demo->rand));
  guint n_calls = (guint) lround (expected);
  g_autoptr(GArray) arrivals = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_calls);
  guint n_customers = demo->customers->len;
  g_autofree char *date = NULL;

  {
    g_autoptr(GDateTime) local = g_date_time_new_from_unix_utc ((day_ms + SHANGHAI_OFFSET_MS) /
                                                                1000);

    date = g_date_time_format (local, "%Y%m%d");
  }

  for (guint i = 0; i < n_calls; i++)
    {
      guint slot = weighted (demo, arrival_curve, G_N_ELEMENTS (arrival_curve));
      gint64 t = day_ms + ARRIVALS_FROM_MS + slot * 30 * MINUTE_MS +
                 uniform_ms (demo, 0, 30 * MINUTE_MS);

      g_array_append_val (arrivals, t);
    }
  g_array_sort (arrivals, compare_ms);

  for (guint i = 0; i < n_calls; i++)
    {
      DemoCall call = { 0 };
      gint64 t = g_array_index (arrivals, gint64, i);
      gint64 final_ms;
      int best = -1;
      gint64 best_start = G_MAXINT64;

      call.offered_ms = t;
      call.agent = -1;
      call.customer = -1;
      g_snprintf (call.id, sizeof call.id, "demo%" G_GINT64_FORMAT "-%s-%05u", demo->base, date,
                  i + 1);

      /* Who calls, and which menu option they press. */
      if (n_customers && chance (demo, KNOWN_CALLER_SHARE))
        {
          /* a few customers call far more often than the rest */
          call.customer = chance (demo, 0.2)
                          ? g_rand_int_range (demo->rand, 0, (gint32) MAX (1u, n_customers / 20))
                          : g_rand_int_range (demo->rand, 0, (gint32) n_customers);
          g_strlcpy (call.caller, g_array_index (demo->customers, DemoCustomer,
                                                 call.customer).phone, sizeof call.caller);
        }
      else
        {
          /* 17x numbers are never given to demo customers: a stranger */
          guint prefix = (guint) g_rand_int_range (demo->rand, 0, 9);
          guint rest = (guint) g_rand_int_range (demo->rand, 0, 100000000);

          g_snprintf (call.caller, sizeof call.caller, "+8617%u%08u", prefix, rest);
        }
      if (call.customer >= 0 &&
          g_array_index (demo->customers, DemoCustomer, call.customer).tier == TIER_VIP &&
          chance (demo, 0.85))
        call.queue = QUEUE_VIP;
      else
        call.queue = (guint8) weighted (demo, queue_shares, G_N_ELEMENTS (queue_shares));

      if (chance (demo, 0.03))
        {
          /* dialled by mistake: gone within seconds */
          call.ended_ms = t + uniform_ms (demo, 1000, 4900);
          final_ms = call.ended_ms;
        }
      else
        {
          double patience_s = 15 + exponential (demo, demo_queues[call.queue].patience_mean_s);
          gint64 ring_ms = uniform_ms (demo, 2000, 8000);

          for (guint a = 0; a < demo->agents->len; a++)
            {
              DemoAgent *agent = g_ptr_array_index (demo->agents, a);
              gint64 start;

              if (!agent->skills[call.queue])
                continue;
              start = agent_next_start (agent, t);
              /* ties go to the agent idle longest */
              if (start < best_start ||
                  (start == best_start && start != G_MAXINT64 &&
                   agent->free_ms <
                   ((DemoAgent *) g_ptr_array_index (demo->agents, best))->free_ms))
                {
                  best = (int) a;
                  best_start = start;
                }
            }
          if (best >= 0 && best_start != G_MAXINT64 &&
              (double) (best_start + ring_ms - t) <= patience_s * 1000)
            {
              double talk_s = CLAMP (lognormal (demo, demo_queues[call.queue].talk_median_s, 0.55),
                                     15, 3600);

              call.answered = TRUE;
              call.agent = best;
              call.answered_ms = best_start + ring_ms;
              call.hold_ms = chance (demo, 0.25) ? uniform_ms (demo, 10000, 120000) : 0;
              call.hold_at_ms = call.answered_ms +
                                uniform_ms (demo, 5000, (gint64) (talk_s * 1000));
              call.ended_ms = call.answered_ms + (gint64) (talk_s * 1000) + call.hold_ms;
              call.wrapup_end_ms = call.ended_ms +
                                   uniform_ms (demo, 8000,
                                               (gint64) demo_queues[call.queue].wrapup_s * 2000);
              final_ms = call.wrapup_end_ms;
            }
          else
            {
              call.ended_ms = t + (gint64) (patience_s * 1000);
              final_ms = call.ended_ms;
            }
        }

      /* Today's calls still in progress have no history yet. */
      if (final_ms >= demo->now_ms)
        continue;
      if (call.answered)
        ((DemoAgent *) g_ptr_array_index (demo->agents, call.agent))->free_ms = call.wrapup_end_ms;
      g_array_append_val (calls, call);
    }
}

static JsonObject *
seconds_data (const char *name,
              gint64      ms)
{
  JsonObject *data = json_object_new ();

  json_object_set_double_member (data, name, (double) ms / 1000.0);
  return data;
}

static void
set_time (JsonObject *object,
          const char *member,
          gint64      ms)
{
  g_autofree char *text = kefu_time_format_ms (ms);

  json_object_set_string_member (object, member, text);
}

/* An event object as validation would leave it: the event kind's fields
 * only, ts already in the normal spelling.  Millions are made, so they are
 * built right rather than checked one by one. */
static JsonObject *
event_object (DemoData        *demo,
              GArray          *calls,
              const DemoEvent *event)
{
  JsonObject *object = json_object_new ();
  JsonObject *data = NULL;
  static const char * const types[] = {
    "call.offered", "call.answered", "call.abandoned", "call.ended", "call.wrapup_ended",
  };
  static const char * const states[] = {
    [EVENT_AVAILABLE] = "available", [EVENT_LUNCH] = "not_ready",
    [EVENT_LOGGED_OUT] = "logged_out", [EVENT_TALKING] = "talking",
    [EVENT_ON_HOLD] = "on_hold", [EVENT_WRAPUP] = "wrapup",
  };

  json_object_set_string_member (object, "type", event->type <= EVENT_WRAPUP_ENDED
                                                 ? types[event->type] : "agent.state");
  set_time (object, "ts", event->ts);

  if (event->type <= EVENT_WRAPUP_ENDED)
    {
      const DemoCall *call = &g_array_index (calls, DemoCall, event->index);

      json_object_set_string_member (object, "call_id", call->id);
      json_object_set_string_member (object, "queue", demo_queues[call->queue].name);
      if (call->agent >= 0 && event->type != EVENT_OFFERED)
        json_object_set_string_member (object, "agent",
                                       ((DemoAgent *) g_ptr_array_index (demo->agents,
                                                                         call->agent))->username);
      switch (event->type)
        {
        case EVENT_OFFERED:
          data = json_object_new ();
          json_object_set_string_member (data, "caller", call->caller);
          break;
        case EVENT_ANSWERED:
          data = seconds_data ("wait_s", call->answered_ms - call->offered_ms);
          break;
        case EVENT_ABANDONED:
          data = seconds_data ("wait_s", call->ended_ms - call->offered_ms);
          break;
        case EVENT_ENDED:
          data = seconds_data ("talk_s", call->ended_ms - call->answered_ms - call->hold_ms);
          json_object_set_double_member (data, "hold_s", (double) call->hold_ms / 1000.0);
          break;
        case EVENT_WRAPUP_ENDED:
        default:
          data = seconds_data ("wrapup_s", call->wrapup_end_ms - call->ended_ms);
          break;
        }
    }
  else
    {
      DemoAgent *agent = g_ptr_array_index (demo->agents, event->index);

      json_object_set_string_member (object, "agent", agent->username);
      data = json_object_new ();
      json_object_set_string_member (data, "state", states[event->type]);
      if (event->type == EVENT_LUNCH)
        json_object_set_string_member (data, "reason", "Lunch");
    }
  json_object_set_object_member (object, "data", data);
  return object;
}

static JsonObject *
call_record_object (DemoData       *demo,
                    const DemoCall *call)
{
  JsonObject *object = json_object_new ();
  const char *queue = demo_queues[call->queue].name;

  json_object_set_string_member (object, "id", call->id);
  json_object_set_string_member (object, "direction", "inbound");
  json_object_set_string_member (object, "caller", call->caller);
  json_object_set_string_member (object, "queue", queue);
  json_object_set_string_member (object, "ivr_path", demo_queues[call->queue].ivr_path);
  if (call->customer >= 0)
    json_object_set_int_member (object, "customer_id",
                                g_array_index (demo->customers, DemoCustomer, call->customer).id);
  set_time (object, "offered_at", call->offered_ms);
  if (call->answered)
    {
      json_object_set_string_member (object, "agent",
                                     ((DemoAgent *) g_ptr_array_index (demo->agents,
                                                                       call->agent))->username);
      set_time (object, "answered_at", call->answered_ms);
      json_object_set_double_member (object, "wait_s",
                                     (double) (call->answered_ms - call->offered_ms) / 1000.0);
      json_object_set_double_member (object, "talk_s",
                                     (double) (call->ended_ms - call->answered_ms - call->hold_ms) /
                                     1000.0);
      json_object_set_double_member (object, "hold_s", (double) call->hold_ms / 1000.0);
      json_object_set_double_member (object, "wrapup_s",
                                     (double) (call->wrapup_end_ms - call->ended_ms) / 1000.0);
      json_object_set_string_member (object, "outcome", "answered");
    }
  else
    {
      json_object_set_double_member (object, "wait_s",
                                     (double) (call->ended_ms - call->offered_ms) / 1000.0);
      json_object_set_string_member (object, "outcome", "abandoned");
    }
  set_time (object, "ended_at", call->ended_ms);
  return object;
}

/* Older cases are mostly settled; today's are mostly still open. */
static const char *
case_status (DemoData *demo,
             gint64    age_ms)
{
  static const char * const statuses[] = { "open", "pending", "resolved", "closed" };

  if (age_ms < DAY_MS)
    return statuses[weighted (demo, (const double[]) { 60, 25, 15, 0 }, 4)];
  if (age_ms < 7 * DAY_MS)
    return statuses[weighted (demo, (const double[]) { 20, 25, 40, 15 }, 4)];
  return statuses[weighted (demo, (const double[]) { 1, 4, 15, 80 }, 4)];
}

static gboolean
open_case (DemoData        *demo,
           const DemoCall  *call,
           GError         **error)
{
  const DemoCustomer *customer = &g_array_index (demo->customers, DemoCustomer, call->customer);
  const char *agent = ((DemoAgent *) g_ptr_array_index (demo->agents, call->agent))->username;
  guint category = weighted (demo, queue_category_weights[call->queue], N_CATEGORIES);
  guint which = g_rand_int_range (demo->rand, 0, 4);
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  KefuWrite write = KEFU_WRITE_INIT;

  write.actor = agent;
  write.status = 201;
  json_object_set_int_member (object, "customer_id", customer->id);
  json_object_set_string_member (object, "call_id", call->id);
  json_object_set_string_member (object, "category", categories[category].key);
  json_object_set_string_member (object, "disposition",
                                 categories[category].dispositions[g_rand_int_range (demo->rand,
                                                                                     0, 4)]);
  json_object_set_string_member (object, "priority",
                                 priorities[weighted (demo, priority_weights, 4)]);
  json_object_set_string_member (object, "status",
                                 case_status (demo, demo->now_ms - call->offered_ms));
  json_object_set_string_member (object, "subject",
                                 customer->chinese ? categories[category].chinese_subjects[which]
                                                   : categories[category].english_subjects[which]);
  json_object_set_string_member (object, "assignee", agent);
  record = create_record (demo, &kefu_record_case, object, &write, NULL, error);
  if (!record)
    return FALSE;
  demo->n_cases++;

  if (chance (demo, CASE_NOTE_SHARE))
    {
      g_autoptr(JsonObject) note = json_object_new ();
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(JsonObject) doc = NULL;
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT,
                                             json_object_get_int_member (record, "id"));
      KefuWriteResult result = { 0 };

      json_object_set_string_member (note, "body", customer->chinese
                                                   ? PICK (demo, chinese_case_notes)
                                                   : PICK (demo, english_case_notes));
      node = json_node_init_object (json_node_alloc (), note);
      doc = kefu_record_validate (&kefu_record_case_note, node, KEFU_RECORD_CREATE, demo->country,
                                  NULL, error);
      if (!doc || !kefu_store_add_case_note (demo->store, id, doc, &write, &result, error))
        {
          g_prefix_error (error, "cannot add a case note: ");
          return FALSE;
        }
      kefu_write_result_clear (&result);
      demo->n_notes++;
    }
  return TRUE;
}

/* Writes the day's call events; with_states, the agents' states too; with
 * records, a call record per call and cases for some of them. */
static gboolean
write_day (DemoData  *demo,
           GArray    *calls,
           gboolean   with_states,
           gboolean   with_records,
           GError   **error)
{
  g_autoptr(GArray) events = g_array_sized_new (FALSE, FALSE, sizeof (DemoEvent),
                                                calls->len * 8 + demo->agents->len * 4);
  KefuWrite write = KEFU_WRITE_INIT;

  write.actor = "kefu-switch";
  write.status = 201;

  for (guint i = 0; i < calls->len; i++)
    {
      const DemoCall *call = &g_array_index (calls, DemoCall, i);

      add_event (events, call->offered_ms, EVENT_OFFERED, i);
      if (call->answered)
        {
          DemoAgent *agent = g_ptr_array_index (demo->agents, call->agent);

          add_event (events, call->answered_ms, EVENT_ANSWERED, i);
          add_event (events, call->ended_ms, EVENT_ENDED, i);
          add_event (events, call->wrapup_end_ms, EVENT_WRAPUP_ENDED, i);
          /* The agent's side, as the switch reports it: occupancy is the
           * time talking, on hold and in wrap-up. */
          if (with_states && agent->log_states)
            {
              add_event (events, call->answered_ms, EVENT_TALKING, call->agent);
              if (call->hold_ms)
                {
                  add_event (events, call->hold_at_ms, EVENT_ON_HOLD, call->agent);
                  add_event (events, call->hold_at_ms + call->hold_ms, EVENT_TALKING, call->agent);
                }
              add_event (events, call->ended_ms, EVENT_WRAPUP, call->agent);
              add_event (events, call->wrapup_end_ms, EVENT_AVAILABLE, call->agent);
            }
        }
      else
        {
          add_event (events, call->ended_ms, EVENT_ABANDONED, i);
        }
    }

  for (guint a = 0; a < demo->agents->len; a++)
    {
      DemoAgent *agent = g_ptr_array_index (demo->agents, a);
      gint64 lunch_ms, logout_ms;

      if (!with_states || !agent->on_shift || !agent->log_states)
        continue;
      lunch_ms = agent->lunch_fixed ? agent->lunch_ms : MAX (agent->lunch_plan_ms, agent->free_ms);
      logout_ms = MAX (agent->logout_plan_ms, agent->free_ms);
      /* The history ends now: what has not happened yet is left out. */
      if (agent->login_ms < demo->now_ms)
        add_event (events, agent->login_ms, EVENT_AVAILABLE, a);
      if (lunch_ms < demo->now_ms)
        add_event (events, lunch_ms, EVENT_LUNCH, a);
      if (lunch_ms + agent->lunch_len_ms < demo->now_ms)
        add_event (events, lunch_ms + agent->lunch_len_ms, EVENT_AVAILABLE, a);
      if (logout_ms < demo->now_ms)
        add_event (events, logout_ms, EVENT_LOGGED_OUT, a);
      else if (agent->login_ms < demo->now_ms)
        /* Still at work: the demo agents are not really there, so the live
         * panel should not offer them calls. */
        add_event (events, demo->now_ms - 1000, EVENT_LOGGED_OUT, a);
    }

  /* The log is in time order, as the switch would have written it. */
  g_array_sort (events, compare_events);
  for (guint i = 0; i < events->len; i++)
    {
      json_array_add_object_element (demo->batch,
                                     event_object (demo, calls,
                                                   &g_array_index (events, DemoEvent, i)));
      if (json_array_get_length (demo->batch) >= EVENT_BATCH && !flush_events (demo, error))
        return FALSE;
    }
  if (!flush_events (demo, error))
    return FALSE;

  for (guint i = 0; with_records && i < calls->len; i++)
    {
      const DemoCall *call = &g_array_index (calls, DemoCall, i);
      g_autoptr(JsonObject) object = call_record_object (demo, call);
      g_autoptr(JsonObject) record = NULL;

      record = create_record (demo, &kefu_record_call, object, &write, NULL, error);
      if (!record)
        return FALSE;
      demo->n_cdrs++;
      if (call->answered && call->customer >= 0 && chance (demo, CASE_SHARE) &&
          !open_case (demo, call, error))
        return FALSE;
    }
  demo->n_calls += calls->len;
  return TRUE;
}

static gboolean
create_history (DemoData  *demo,
                GError   **error)
{
  guint days = demo->options->days;
  /* local midnight today, as ms since the epoch */
  gint64 today_ms = (demo->now_ms + SHANGHAI_OFFSET_MS) / DAY_MS * DAY_MS - SHANGHAI_OFFSET_MS;
  guint next_tenth = 1;
  guint64 expected_calls = (guint64) days * demo->options->calls_per_day;
  guint record_days = MAX (1u, MAX_CALL_RECORDS / MAX (1u, demo->options->calls_per_day));
  /* talking, wrap-up and available for most calls, four more per agent */
  double states_per_day = demo->options->calls_per_day * 3.2 + demo->agents->len * 4.0;
  guint state_days = CLAMP ((guint) (MAX_AGENT_STATE_EVENTS / MAX (1.0, states_per_day)), 1u,
                            AGENT_STATE_DAYS);

  demo->record_days = MIN (record_days, days);
  demo->state_days = MIN (state_days, days);

  for (guint d = days; d-- > 0;)
    {
      g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (DemoCall));
      gint64 day_ms = today_ms - (gint64) d * DAY_MS;
      gint64 epoch_day = (day_ms + SHANGHAI_OFFSET_MS) / DAY_MS;
      /* 1970-01-01 was a Thursday */
      int weekday = (int) ((epoch_day + 3) % 7);   /* 0 = Monday */
      gboolean weekend = weekday >= 5;

      plan_shifts (demo, day_ms, epoch_day, weekend);
      simulate_calls (demo, day_ms, weekend, calls);
      if (!write_day (demo, calls, d < state_days, d < record_days, error))
        return FALSE;
      progress (demo, "call history", MIN (demo->n_calls, expected_calls), expected_calls,
                &next_tenth);
    }
  return TRUE;
}

/* --- faxes ----------------------------------------------------------------------------- */

static gboolean
create_faxes (DemoData  *demo,
              GError   **error)
{
  guint n = 12 + MIN (demo->customers->len / 500, 38u);
  KefuWrite write = KEFU_WRITE_INIT;

  write.actor = "kefu-server";
  write.status = 201;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(JsonObject) object = json_object_new ();
      g_autoptr(JsonObject) record = NULL;
      gboolean inbound = chance (demo, 0.6);
      gint64 when = demo->now_ms - uniform_ms (demo, HOUR_MS,
                                               MAX (1u, demo->options->days) * DAY_MS);
      g_autoptr(GDateTime) local = g_date_time_new_from_unix_utc ((when + SHANGHAI_OFFSET_MS) /
                                                                  1000);
      g_autofree char *date = g_date_time_format (local, "%Y%m%d-%H%M");
      g_autofree char *filename = g_strdup_printf ("fax-%s-%03u.tif", date, i + 1);

      json_object_set_string_member (object, "direction", inbound ? "inbound" : "outbound");
      if (demo->customers->len)
        {
          const DemoCustomer *customer =
            &g_array_index (demo->customers, DemoCustomer,
                            g_rand_int_range (demo->rand, 0, (gint32) demo->customers->len));

          json_object_set_int_member (object, "customer_id", customer->id);
          json_object_set_string_member (object, "remote_number", customer->phone);
        }
      json_object_set_string_member (object, "subject", PICK (demo, fax_subjects));
      json_object_set_int_member (object, "pages", g_rand_int_range (demo->rand, 1, 13));
      json_object_set_string_member (object, "status",
                                     inbound ? (chance (demo, 0.9) ? "received" : "failed")
                                             : (chance (demo, 0.88) ? "sent" : "failed"));
      json_object_set_string_member (object, "filename", filename);
      record = create_record (demo, &kefu_record_fax, object, &write, NULL, error);
      if (!record)
        return FALSE;
      demo->n_faxes++;
    }
  return TRUE;
}

gboolean
kefu_demo_data_generate (KefuStore                 *store,
                         KefuAuth                  *auth,
                         const KefuDemoDataOptions *options,
                         GError                   **error)
{
  DemoData demo = { 0 };
  gboolean ok;

  g_return_val_if_fail (KEFU_IS_STORE (store), FALSE);
  g_return_val_if_fail (KEFU_IS_AUTH (auth), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  demo.store = store;
  demo.auth = auth;
  demo.options = options;
  demo.country = kefu_store_get_default_country (store);
  demo.rand = g_rand_new_with_seed (options->seed);
  demo.customers = g_array_sized_new (FALSE, FALSE, sizeof (DemoCustomer), options->n_customers);
  demo.agents = g_ptr_array_new_with_free_func (demo_agent_free);
  demo.hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  demo.batch = json_array_new ();
  demo.now_ms = kefu_time_now_ms ();
  demo.started_us = g_get_monotonic_time ();

  /* A second run adds to the first: its numbers, account numbers and
   * call ids start where the customers already there leave off. */
  demo.base = kefu_store_count (store, &kefu_record_customer, error);
  ok = demo.base >= 0;
  for (guint c = 0; ok && c < G_N_ELEMENTS (demo.phone_counters); c++)
    demo.phone_counters[c] = (guint64) demo.base * 3;

  ok = ok && create_queues (&demo, error);
  ok = ok && create_users (&demo, error);
  ok = ok && create_customers (&demo, error);
  ok = ok && create_history (&demo, error);
  ok = ok && create_faxes (&demo, error);

  if (ok)
    g_printerr ("demo-data: %u customers, %u agents, %" G_GUINT64_FORMAT " calls, %"
                G_GUINT64_FORMAT " events (agent states for the last %u days), %" G_GUINT64_FORMAT
                " call records (last %u days), %" G_GUINT64_FORMAT " cases, %" G_GUINT64_FORMAT
                " notes, %u faxes in %.1f s\n",
                demo.customers->len, demo.agents->len, demo.n_calls, demo.n_events,
                demo.state_days, demo.n_cdrs, demo.record_days, demo.n_cases, demo.n_notes,
                demo.n_faxes,
                (double) (g_get_monotonic_time () - demo.started_us) / G_USEC_PER_SEC);

  g_rand_free (demo.rand);
  g_array_unref (demo.customers);
  g_ptr_array_unref (demo.agents);
  g_hash_table_unref (demo.hashes);
  json_array_unref (demo.batch);
  return ok;
}
